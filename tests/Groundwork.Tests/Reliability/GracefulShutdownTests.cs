using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Groundwork.Tests.Infrastructure;
using Npgsql;

namespace Groundwork.Tests.Reliability;

/// <summary>
/// SIGTERM as an orchestrator sends it, to a real server process with 50 requests in flight: readiness fails
/// first while the node still serves, every in-flight request completes, the relay publishes what they wrote,
/// and the process exits by itself, cleanly.
/// </summary>
public sealed partial class GracefulShutdownTests(PostgresServer postgres) : IDisposable
{
    private const int InFlight = 50;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-term-" + Guid.NewGuid().ToString("N")[..8]);
    private ServerProcess? _server;

    [Fact]
    public async Task Sigterm_fails_readiness_first_then_lets_50_in_flight_requests_finish_and_exits()
    {
        Directory.CreateDirectory(_folder);
        var database = await postgres.CreateDatabaseAsync();
        var metricsPort = PostgresServer.FreePort();
        _server = new ServerProcess(_folder, database, new Dictionary<string, string>
        {
            // Long enough that the readiness probe below sees it fail while the node still answers.
            ["Groundwork__Shutdown__Drain"] = "00:00:10",
            ["Groundwork__Shutdown__Timeout"] = "00:01:00",
            ["Groundwork__Observability__MetricsUrl"] = $"http://127.0.0.1:{metricsPort}",
        });
        await _server.StartAsync();
        Assert.Equal(0, await _server.RunCommandAsync("create-admin --email admin@term.test --name Admin",
            new Dictionary<string, string> { ["GROUNDWORK_ADMIN_PASSWORD"] = "term-test-password" }));

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = InFlight + 10 };
        using var http = new HttpClient(handler) { BaseAddress = _server.Address, Timeout = TimeSpan.FromMinutes(2) };
        var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@term.test", password = "term-test-password" })).AssertStatus(200);
        var token = login["accessToken"]!.GetValue<string>();

        // 50 requests whose bodies stop half-way: the server has them (their handlers are reading the body)
        // and cannot finish them until the bodies are released, after SIGTERM.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = Enumerable.Range(0, InFlight).Select(i =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/posts")
            {
                Content = new HalfThenRest($$"""{"title":"in flight {{i}}","content":"written during shutdown""", "\",\"published\":true}", release.Task),
            };
            request.Headers.Authorization = new("Bearer", token);
            return http.SendAsync(request);
        }).ToList();

        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        await WaitUntilAsync(async () => ActiveRequests(await scraper.GetStringAsync("/metrics")) >= InFlight, "the server never had 50 requests in flight");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stopping = _server.SignalTerminate();

        // Readiness fails first, while the node still answers (the probe itself is served).
        using var probe = new HttpClient { BaseAddress = _server.Address, Timeout = TimeSpan.FromSeconds(5) };
        await WaitUntilAsync(async () => (int)(await probe.GetAsync("/health/ready")).StatusCode == 503, "readiness never failed");
        Assert.Equal(200, (int)(await probe.GetAsync("/health/live")).StatusCode);
        Assert.False(requests.Any(r => r.IsCompleted), "an in-flight request ended before its body was sent");

        release.SetResult();
        foreach (var request in requests)
        {
            var response = await request;
            var created = await response.AssertStatus(201);
            Assert.StartsWith("in flight ", created["data"]!["title"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await stopping);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"the process took {clock.Elapsed} to exit, longer than its shutdown timeout");

        // Everything acknowledged is in the database, and the relay published it before the process left.
        await using var db = new NpgsqlConnection(database);
        await db.OpenAsync();
        Assert.Equal(InFlight, await Scalar(db, "SELECT count(*) FROM posts WHERE title LIKE 'in flight %'"));
        Assert.Equal(0, await Scalar(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL"));
        Assert.True(await Scalar(db, "SELECT count(*) FROM outbox WHERE type = 'post.published'") >= InFlight);
    }

    private static async Task<long> Scalar(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Requests the server is handling now (ASP.NET Core's http.server.active_requests, all routes).</summary>
    private static long ActiveRequests(string metrics) =>
        ActiveLine().Matches(metrics).Sum(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^http_server_active_requests\{.*\} (\d+)\r?$", RegexOptions.Multiline)]
    private static partial Regex ActiveLine();

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        for (var i = 0; i < 600; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail(failure);
    }

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

    /// <summary>A JSON body sent in two parts: the second only when <paramref name="release"/> completes.</summary>
    private sealed class HalfThenRest(string first, string rest, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(first));
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(Encoding.UTF8.GetBytes(rest));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = Encoding.UTF8.GetByteCount(first) + Encoding.UTF8.GetByteCount(rest);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            return true;
        }
    }
}
