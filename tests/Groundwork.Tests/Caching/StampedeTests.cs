using Groundwork.Features.Posts;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Caching;

public sealed class StampedeTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task A_hundred_concurrent_reads_of_an_uncached_post_query_the_database_once()
    {
        var author = await app.ActorAsync();
        // Written behind the cache's back, so the first reads all miss.
        var post = new Post { AuthorId = author.Id, Title = "Cold", Content = "C", Published = true, PublishedAt = DateTime.UtcNow, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
        await app.Db(async db =>
        {
            db.Posts.Add(post);
            return await db.SaveChangesAsync();
        });
        app.Sql.Counted = sql => sql.Contains("FROM \"posts\"", StringComparison.Ordinal);
        app.Sql.Reset();

        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(() => app.CreateClient().GetAsync($"/api/v1/posts/{post.Id}"))));

        foreach (var response in responses)
        {
            Assert.Equal("Cold", (await response.AssertStatus(200))["data"]!["title"]!.GetValue<string>());
        }

        Assert.Equal(1, app.Sql.Count);
    }
}
