using System.Net.Http.Json;
using Groundwork.Features.Users;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Redis;

/// <summary>Two nodes (each with its own database, so only Redis is shared) and a private redis-server.</summary>
public sealed class TwoNodes : IAsyncLifetime
{
    public RedisServer Redis { get; } = new();

    public SqliteAppWith A { get; private set; } = null!;

    public SqliteAppWith B { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        A = new Node(Redis.Configuration);
        B = new Node(Redis.Configuration);
        await A.InitializeAsync();
        await B.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
        finally
        {
            // Whatever the apps' shutdown did, the redis-server process must not outlive the tests.
            await Redis.DisposeAsync();
        }
    }

    private sealed class Node(string redis) : SqliteAppWith(new Dictionary<string, string?>
    {
        ["Groundwork:Redis"] = redis,
        // Two a minute: one token back every 30 s, far longer than the test takes on any machine.
        ["Groundwork:RateLimits:RegisterPerIp"] = "2",
    });
}

public sealed class SharedRateLimitTests(TwoNodes nodes) : IClassFixture<TwoNodes>
{
    private static Task<HttpResponseMessage> RegisterAsync(GroundworkApp node) =>
        node.CreateClient().PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail("shared"), name = "N", password = "long-enough-1" });

    [Fact]
    public async Task With_Redis_every_node_draws_on_one_bucket_and_an_outage_degrades_to_per_node_buckets()
    {
        // Six sign-ups from one address, alternating between the nodes: the shared limit (2) lets exactly two
        // through in total, not two per node.
        await Caching.RedisReady.WaitAsync(nodes.A, nodes.B);
        var statuses = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((int)(await RegisterAsync(i % 2 == 0 ? nodes.A : nodes.B)).StatusCode);
        }

        Assert.Equal(2, statuses.Count(s => s == 201));
        Assert.Equal(4, statuses.Count(s => s == 429));
        Assert.Equal(2, await MoneyHelpers.Db(nodes.A, db => db.Users.CountAsync()) + await MoneyHelpers.Db(nodes.B, db => db.Users.CountAsync()));

        // Redis goes away: no request fails for it; each node limits on its own, and readiness says degraded.
        await nodes.Redis.StopAsync();
        try
        {
            var during = await RegisterAsync(nodes.A);
            Assert.Equal(201, (int)during.StatusCode);
            var degraded = await nodes.A.CreateClient().GetAsync("/health/ready");
            Assert.Equal(200, (int)degraded.StatusCode);
            Assert.Equal("Degraded", await degraded.Content.ReadAsStringAsync());
            await (await nodes.B.CreateClient().GetAsync("/api/v1/posts")).AssertStatus(200);
        }
        finally
        {
            await nodes.Redis.StartAsync();
        }

        // Back: once both nodes see Redis again (a condition, not a delay) and their few seconds of local fallback
        // have passed, they share it again; the restarted server is empty, so the bucket starts full.
        await Caching.RedisReady.WaitAsync(nodes.A, nodes.B);
        await Task.Delay(TimeSpan.FromSeconds(6)); // the limiter's back-off after a failure (5 s) must run out
        var after = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            after.Add((int)(await RegisterAsync(i % 2 == 0 ? nodes.A : nodes.B)).StatusCode);
        }

        Assert.Equal(2, after.Count(s => s == 201));
    }
}
