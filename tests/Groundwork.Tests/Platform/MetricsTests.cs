using System.Net.Http.Json;
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
        ["Groundwork:RateLimits:RegisterPerIp"] = "1",
    };

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

public sealed class MetricsTests(MetricsApp app) : IClassFixture<MetricsApp>
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

        // Each port serves only its own: no /metrics on the API, no API on the metrics port, whatever Host says.
        Assert.Equal(404, (int)(await app.CreateClient().GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(404, (int)(await scraper.GetAsync("/api/v1/auth/me", TestContext.Current.CancellationToken)).StatusCode);
        using var api = new HttpClient { BaseAddress = app.HttpAddress };
        foreach (var host in new[] { $"localhost:{app.MetricsPort}", $"127.0.0.1:{app.MetricsPort}", $"api.example.com:{app.MetricsPort}" })
        {
            using var sneaky = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            sneaky.Headers.Host = host;
            Assert.Equal(404, (int)(await api.SendAsync(sneaky, TestContext.Current.CancellationToken)).StatusCode);
        }

        // A scrape through a port mapping or a proxy names another port (or none) in Host: still served.
        using var mapped = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        mapped.Headers.Host = "metrics.internal:9465";
        Assert.Equal(200, (int)(await scraper.SendAsync(mapped, TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Failed_sign_ins_and_rate_limit_refusals_are_counted()
    {
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.MetricsPort}") };
        var user = await app.ActorAsync();
        var before = await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

        using var client = app.CreateClient();
        var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = "not-the-password" }, TestContext.Current.CancellationToken);
        await login.AssertError(401, "AUTHENTICATION_ERROR");
        // One registration a minute from this address: the first passes, the second is refused.
        var first = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail(), name = "One", password = "password-1" }, TestContext.Current.CancellationToken);
        await first.AssertStatus(201);
        var second = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail(), name = "Two", password = "password-2" }, TestContext.Current.CancellationToken);
        await second.AssertError(429, "RATE_LIMITED");

        // At least ours: the service's meters are static, so other test apps in this process add to them too.
        var after = await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.True(Series(after, "groundwork_auth_refusals_total", "event=\"auth.login_failed\"") >= Series(before, "groundwork_auth_refusals_total", "event=\"auth.login_failed\"") + 1,
            "the failed sign-in was not counted");
        Assert.True(Series(after, "groundwork_rate_limit_refusals_total", "policy=\"register-ip\"") >= Series(before, "groundwork_rate_limit_refusals_total", "policy=\"register-ip\"") + 1,
            "the rate-limit refusal was not counted");
    }

    /// <summary>The request count of a route for GET 200 (the duration histogram's _count series).</summary>
    private static long Count(string metrics, string route) =>
        PrometheusText.Sum(metrics, "http_server_request_duration_seconds_count", $"http_route=\"{route}\"", "http_response_status_code=\"200\"");

    private static long Series(string metrics, string name, string label) => PrometheusText.Sum(metrics, name, label);
}
