using System.Net.Http.Json;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Platform;

/// <summary>
/// A server process of its own with the metrics listener on a port of its own. A process, not an in-process test
/// host: metric listeners are process-wide, so other test apps' instruments would show up in (and change) the scrape.
/// </summary>
public sealed class MetricsTests(PostgresServer postgres) : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-metrics-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly int _metricsPort = PostgresServer.FreePort();
    private ServerProcess? _server;

    /// <summary>Starts the server and returns a client signed in as its admin, and the admin's id.</summary>
    private async Task<(ServerProcess Server, HttpClient Admin, string AdminId)> StartAsync()
    {
        Directory.CreateDirectory(_folder);
        _server = new ServerProcess(_folder, await postgres.CreateDatabaseAsync(), new Dictionary<string, string>
        {
            ["Groundwork__Observability__MetricsUrl"] = $"http://127.0.0.1:{_metricsPort}",
            ["Groundwork__RateLimits__RegisterPerIp"] = "1",
        });
        await _server.StartAsync();
        Assert.Equal(0, await _server.RunCommandAsync("create-admin --email admin@metrics.test --name Admin",
            new Dictionary<string, string> { ["GROUNDWORK_ADMIN_PASSWORD"] = "metrics-test-password" }));
        var admin = new HttpClient { BaseAddress = _server.Address };
        var login = await (await admin.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@metrics.test", password = "metrics-test-password" })).AssertStatus(200);
        admin.DefaultRequestHeaders.Authorization = new("Bearer", login["accessToken"]!.GetValue<string>());
        var me = await (await admin.GetAsync("/api/v1/auth/me")).AssertStatus(200);
        return (_server, admin, me["data"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Metrics_are_scraped_on_their_own_port_and_move_under_load()
    {
        var (server, admin, adminId) = await StartAsync();
        using var client = admin;
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_metricsPort}") };
        await (await client.GetAsync($"/api/v1/users/{adminId}")).AssertStatus(200);
        var before = await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

        for (var i = 0; i < 20; i++)
        {
            await (await client.GetAsync($"/api/v1/users/{adminId}")).AssertStatus(200);
        }

        var after = await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        // Request durations per route, the service's own cache meter, runtime.
        Assert.True(Count(after, "/api/v1/users/{id:guid}") == Count(before, "/api/v1/users/{id:guid}") + 20,
            $"the request counter for the route did not move: {Count(before, "/api/v1/users/{id:guid}")} -> {Count(after, "/api/v1/users/{id:guid}")}");
        Assert.Contains("groundwork_cache", after, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc", after, StringComparison.Ordinal);

        // Each port serves only its own: no /metrics on the API, no API on the metrics port, whatever Host says.
        Assert.Equal(404, (int)(await client.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(404, (int)(await scraper.GetAsync("/api/v1/auth/me", TestContext.Current.CancellationToken)).StatusCode);
        using var api = new HttpClient { BaseAddress = server.Address };
        foreach (var host in new[] { $"localhost:{_metricsPort}", $"127.0.0.1:{_metricsPort}", $"api.example.com:{_metricsPort}" })
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
        var (server, admin, _) = await StartAsync();
        admin.Dispose();
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_metricsPort}") };
        var before = await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

        using var client = new HttpClient { BaseAddress = server.Address };
        var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@metrics.test", password = "not-the-password" }, TestContext.Current.CancellationToken);
        await login.AssertError(401, "AUTHENTICATION_ERROR");
        // One registration a minute from this address: the first passes, the second is refused.
        var first = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail(), name = "One", password = "password-1" }, TestContext.Current.CancellationToken);
        await first.AssertStatus(201);
        var second = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail(), name = "Two", password = "password-2" }, TestContext.Current.CancellationToken);
        await second.AssertError(429, "RATE_LIMITED");

        var after = await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(Series(before, "groundwork_auth_refusals_total", "event=\"auth.login_failed\"") + 1, Series(after, "groundwork_auth_refusals_total", "event=\"auth.login_failed\""));
        Assert.Equal(Series(before, "groundwork_rate_limit_refusals_total", "policy=\"register-ip\"") + 1, Series(after, "groundwork_rate_limit_refusals_total", "policy=\"register-ip\""));
    }

    /// <summary>
    /// The Grafana dashboard has a panel for every metric the runbook in docs/operations.md names, and every metric a
    /// panel charts is one the service exports under that name: after the usual traffic (sign-ins, a failed one, a
    /// refused sign-up, reads, a deposit) each is in the scrape, except the few that only exist once their incident
    /// has happened.
    /// </summary>
    [Fact]
    public async Task The_dashboard_charts_every_runbook_metric_under_the_name_the_service_exports()
    {
        var dashboard = await File.ReadAllTextAsync(RepoFiles.PathOf("deploy", "grafana", "groundwork-dashboard.json"), TestContext.Current.CancellationToken);
        var charted = System.Text.RegularExpressions.Regex.Matches(dashboard, @"\b([a-z][a-z0-9_]*)\{job=")
            .Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var operations = await File.ReadAllTextAsync(RepoFiles.PathOf("docs", "operations.md"), TestContext.Current.CancellationToken);
        var runbook = operations[operations.IndexOf("## Runbook", StringComparison.Ordinal)..];
        runbook = runbook[..runbook.IndexOf("\n## ", 1, StringComparison.Ordinal)];
        var named = System.Text.RegularExpressions.Regex.Matches(runbook, @"`((?:groundwork|dotnet|db_client|http_server)_[a-z0-9_]+)")
            .Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.True(named.Count >= 15, string.Join(", ", named));
        Assert.Empty(named.Where(name => !new[] { "", "_bucket", "_count" }.Any(series => charted.Contains(name + series))).Order());

        var (server, admin, adminId) = await StartAsync();
        using var client = admin;
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_metricsPort}") };
        await client.OpenFundedAccountAsync(1_000);
        for (var i = 0; i < 3; i++)
        {
            await (await client.GetAsync($"/api/v1/users/{adminId}", TestContext.Current.CancellationToken)).AssertStatus(200);
        }

        using var anonymous = new HttpClient { BaseAddress = server.Address };
        await (await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@metrics.test", password = "not-the-password" }, TestContext.Current.CancellationToken)).AssertError(401, "AUTHENTICATION_ERROR");
        await (await anonymous.PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail(), name = "One", password = "password-1" }, TestContext.Current.CancellationToken)).AssertStatus(201);
        await (await anonymous.PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail(), name = "Two", password = "password-2" }, TestContext.Current.CancellationToken)).AssertError(429, "RATE_LIMITED");

        // Incidents this traffic cannot cause (a full queue or pool, a failing Redis or receiver): exported from the
        // first one on.
        string[] onlyAfterAnIncident =
        [
            "groundwork_auth_hashing_refused_total", "groundwork_money_queue_bypassed_total", "groundwork_cache_errors_total",
            "groundwork_webhooks_failed_attempts_total", "db_client_connection_npgsql_timeouts_total",
            "db_client_connection_npgsql_pending_requests",
        ];
        var exported = PrometheusText.Names(await scraper.GetStringAsync("/metrics", TestContext.Current.CancellationToken));
        var missing = charted.Except(onlyAfterAnIncident)
            .Where(name => !exported.Contains(name))
            .Order().ToList();
        Assert.True(missing.Count == 0, $"charted but not exported: {string.Join(", ", missing)}\nexported: {string.Join(", ", exported.Order())}");
    }

    /// <summary>The request count of a route for GET 200 (the duration histogram's _count series).</summary>
    private static long Count(string metrics, string route) =>
        PrometheusText.Sum(metrics, "http_server_request_duration_seconds_count", $"http_route=\"{route}\"", "http_response_status_code=\"200\"");

    private static long Series(string metrics, string name, string label) => PrometheusText.Sum(metrics, name, label);

    public void Dispose()
    {
        _server?.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
