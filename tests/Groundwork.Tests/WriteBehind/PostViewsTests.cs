using System.Net.Http.Json;
using Groundwork.Features.Posts;
using Groundwork.Platform.WriteBehind;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.WriteBehind;

public sealed class PostViewsTests(SlowFlushApp app) : IClassFixture<SlowFlushApp>
{
    [Fact]
    public async Task Ten_thousand_views_with_flushes_running_meanwhile_are_counted_exactly()
    {
        var author = await app.ActorAsync();
        var created = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Popular", content = "C" })).AssertStatus(201);
        var postId = Guid.Parse(created["data"]!["id"]!.GetValue<string>());
        await (await author.Client().PostAsync($"/api/v1/posts/{postId}/publish", null)).AssertStatus(200);
        var flusher = app.Service<WriteBehindFlusher>();

        // Ten rounds of 1,000 views from 8 clients, each round racing a flush: flushes interleave with the views
        // however fast the machine is, and only what a flush wrote leaves the buffer.
        for (var round = 0; round < 10; round++)
        {
            var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                var client = app.CreateClient();
                for (var i = 0; i < 125; i++)
                {
                    await (await client.GetAsync($"/api/v1/posts/{postId}")).AssertStatus(200);
                }
            }));
            await Task.WhenAll([.. readers, flusher.FlushAsync(CancellationToken.None)]);
        }

        var reported = await (await app.CreateClient().GetAsync($"/api/v1/posts/{postId}/views")).AssertStatus(200);
        Assert.Equal(10_000, reported["data"]!["views"]!.GetValue<long>());

        // Each round's flush started after the previous round's views were all counted: at least nine rounds are
        // in the row already, the rest waits in memory.
        Assert.InRange(await app.Db(db => db.Posts.Where(p => p.Id == postId).Select(p => p.ViewCount).SingleAsync()), 9_000, 10_000);
        await flusher.FlushAsync(CancellationToken.None);
        Assert.Equal(10_000, await app.Db(db => db.Posts.Where(p => p.Id == postId).Select(p => p.ViewCount).SingleAsync()));
        Assert.Equal(10_000, (await (await app.CreateClient().GetAsync($"/api/v1/posts/{postId}/views")).AssertStatus(200))["data"]!["views"]!.GetValue<long>());
    }

    [Fact]
    public async Task Views_of_a_draft_count_only_for_those_who_may_see_it_and_others_get_404()
    {
        var author = await app.ActorAsync();
        var created = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Draft", content = "C" })).AssertStatus(201);
        var postId = created["data"]!["id"]!.GetValue<string>();

        await (await app.CreateClient().GetAsync($"/api/v1/posts/{postId}")).AssertError(404, "NOT_FOUND");
        await (await app.CreateClient().GetAsync($"/api/v1/posts/{postId}/views")).AssertError(404, "NOT_FOUND");
        await (await author.Client().GetAsync($"/api/v1/posts/{postId}")).AssertStatus(200);

        var views = await (await author.Client().GetAsync($"/api/v1/posts/{postId}/views")).AssertStatus(200);
        Assert.Equal(1, views["data"]!["views"]!.GetValue<long>());
        Assert.Equal(postId, views["data"]!["postId"]!.GetValue<string>());
    }
}

/// <summary>An app that flushes every 200 ms: buffered views reach the row on their own.</summary>
public sealed class FastFlushApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:WriteBehind:Interval"] = "00:00:00.2",
});

public sealed class PostViewsIntervalTests(FastFlushApp app) : IClassFixture<FastFlushApp>
{
    [Fact]
    public async Task Buffered_views_reach_the_database_after_the_flush_interval()
    {
        var author = await app.ActorAsync();
        var created = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Soon", content = "C" })).AssertStatus(201);
        var postId = Guid.Parse(created["data"]!["id"]!.GetValue<string>());
        for (var i = 0; i < 5; i++)
        {
            await (await author.Client().GetAsync($"/api/v1/posts/{postId}")).AssertStatus(200);
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await app.Db(db => db.Posts.Where(p => p.Id == postId).Select(p => p.ViewCount).SingleAsync()) != 5)
        {
            Assert.True(DateTime.UtcNow < deadline, "the views were never flushed");
            await Task.Delay(50);
        }
    }
}
