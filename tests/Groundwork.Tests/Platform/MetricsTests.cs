using System.Text.RegularExpressions;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Platform;

/// <summary>A real server with the metrics listener on a port of its own.</summary>
public sealed class MetricsApp : GroundworkApp
{
    public int MetricsPort { get; } = PostgresServer.FreePort();

    public override Provider Provider => Provider.Sqlite;

    protected override bool RealServer => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Groundwork:Observability:MetricsUrl"] = $"http://127.0.0.1:{MetricsPort}",
    };

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

public sealed partial class MetricsTests(MetricsApp app) : IClassFixture<MetricsApp>
{
    [Fact]
    public async Task Metrics_are_scraped_on_their_own_port_and_move_under_load()
    {
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.MetricsPort}") };
        var user = await app.ActorAsync();
        await (await user.Client().GetAsync($"/api/v1/users/{user.Id}")).AssertStatus(200);
        var before = await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

        for (var i = 0; i < 20; i++)
        {
            await (await user.Client().GetAsync($"/api/v1/users/{user.Id}")).AssertStatus(200);
        }

        var after = await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        // Request durations per route, the service's own cache meter, runtime.
        Assert.True(Count(after, "/api/v1/users/{id:guid}") >= Count(before, "/api/v1/users/{id:guid}") + 20,
            $"the request counter for the route did not move: {Count(before, "/api/v1/users/{id:guid}")} -> {Count(after, "/api/v1/users/{id:guid}")}");
        Assert.Contains("groundwork_cache", after, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc", after, StringComparison.Ordinal);

        // Each port serves only its own: no /metrics on the API, no API on the metrics port.
        Assert.Equal(404, (int)(await app.CreateClient().GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(404, (int)(await scraper.GetAsync("/api/v1/auth/me", TestContext.Current.CancellationToken)).StatusCode);
    }

    /// <summary>The request count of a route in Prometheus text (the histogram's _count series for GET 200).</summary>
    private static long Count(string metrics, string route) =>
        CountLine().Matches(metrics)
            .Where(m => m.Value.Contains($"http_route=\"{route}\"", StringComparison.Ordinal) && m.Value.Contains("http_response_status_code=\"200\"", StringComparison.Ordinal))
            .Sum(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^http_server_request_duration_seconds_count\{.*\} (\d+)\r?$", RegexOptions.Multiline)]
    private static partial Regex CountLine();
}
