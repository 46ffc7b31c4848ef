using System.Diagnostics;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.RateLimiting;
using Groundwork.Platform.Redis;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Redis;

/// <summary>Leases of shared rate-limit tokens, on a real redis-server, with the nodes' clocks under the test's control.</summary>
public sealed class RateLimitLeaseTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncDisposable
{
    // A day-long window: Redis refills by its own clock, so over a test's few seconds the bucket stays put.
    private static readonly RateLimitRule Rule = new(1000, TimeSpan.FromDays(1));
    private readonly List<RedisConnection> _connections = [];

    private async Task<RateLimiter> NodeAsync(TimeProvider clock)
    {
        var connection = new RedisConnection(redis.Configuration);
        _connections.Add(connection);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (connection.TryGetDatabase() is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no connection to Redis");
            await Task.Delay(20);
        }

        return new RateLimiter(clock, new RedisRateLimitStore(connection));
    }

    [Fact]
    public async Task Busy_nodes_lease_tokens_yet_together_pass_exactly_the_limit()
    {
        var clock = new ManualClock();
        var nodes = new[] { await NodeAsync(clock), await NodeAsync(clock) };
        var bucket = "lease-" + Guid.NewGuid().ToString("N");
        var callsBefore = await ScriptCallsAsync();

        var accepted = 0;
        for (var i = 0; i < 3000; i++)
        {
            if ((await nodes[i % 2].TryAcquireAsync("test", bucket, Rule)).Allowed)
            {
                accepted++;
            }
        }

        // Nothing lapsed (the clock stood still), so every leased token was spent: exactly the limit. A refusal
        // asks Redis each time; the 1,000 passes took leases (growing to 1 % of the limit, 10 tokens), so about
        // a tenth as many calls.
        Assert.Equal(1000, accepted);
        var callsForPasses = await ScriptCallsAsync() - callsBefore - (3000 - accepted);
        Assert.InRange(callsForPasses, 100, 150);
    }

    [Fact]
    public async Task A_principal_slower_than_the_lease_lifetime_takes_one_token_per_request()
    {
        var clock = new ManualClock();
        var node = await NodeAsync(clock);
        var bucket = "slow-" + Guid.NewGuid().ToString("N");
        for (var i = 0; i < 10; i++)
        {
            Assert.True((await node.TryAcquireAsync("test", bucket, Rule)).Allowed);
            clock.Advance(TimeSpan.FromSeconds(2));
        }

        // Ten requests took ten tokens from the shared bucket: none were leased and lost.
        var tokens = double.Parse(await RedisCliAsync("HGET", $"gw:rl:test|{bucket}", "tokens"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(tokens, 990, 991);
    }

    private async Task<long> ScriptCallsAsync()
    {
        var stats = await RedisCliAsync("INFO", "commandstats");
        return stats.Split('\n')
            .Where(l => l.StartsWith("cmdstat_eval", StringComparison.Ordinal))
            .Sum(l => long.Parse(l.Split("calls=")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<string> RedisCliAsync(params string[] args)
    {
        var start = new ProcessStartInfo("redis-cli", ["-p", redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--raw", .. args])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _timestamp = Stopwatch.GetTimestamp();

        public override long TimestampFrequency => Stopwatch.Frequency;

        public override long GetTimestamp() => Interlocked.Read(ref _timestamp);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _timestamp, (long)(by.TotalSeconds * Stopwatch.Frequency));
    }
}
