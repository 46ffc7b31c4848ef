using System.Net.Http.Json;
using Groundwork.Tests.Infrastructure;
using Npgsql;

namespace Groundwork.Tests.Reliability;

/// <summary>
/// SIGTERM as an orchestrator sends it, to a real server process with 50 transfers in flight (held inside their
/// handlers by a row lock the test owns): readiness fails first while the node still serves, then the node stops
/// accepting connections, and only then is the lock released: every transfer completes, the relay publishes what
/// they wrote, and the process exits by itself, cleanly.
/// </summary>
public sealed class GracefulShutdownTests(PostgresServer postgres) : IDisposable
{
    private const int InFlight = 50;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-term-" + Guid.NewGuid().ToString("N")[..8]);
    private ServerProcess? _server;

    [Fact]
    public async Task Sigterm_fails_readiness_first_then_lets_50_in_flight_requests_finish_and_exits()
    {
        Directory.CreateDirectory(_folder);
        // Room in the pool for the 50 waiting transfers and the probes (the suite's default pool is 30).
        var database = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()) { MaxPoolSize = 100 }.ConnectionString;
        var metricsPort = PostgresServer.FreePort();
        _server = new ServerProcess(_folder, database, new Dictionary<string, string>
        {
            // Long enough for the probe below to see readiness fail while the node still answers.
            ["Groundwork__Shutdown__Drain"] = "00:00:05",
            ["Groundwork__Shutdown__Timeout"] = "00:01:00",
            ["Groundwork__Observability__MetricsUrl"] = $"http://127.0.0.1:{metricsPort}",
        });
        await _server.StartAsync();
        Assert.Equal(0, await _server.RunCommandAsync("create-admin --email admin@term.test --name Admin",
            new Dictionary<string, string> { ["GROUNDWORK_ADMIN_PASSWORD"] = "term-test-password" }));

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = InFlight + 10 };
        using var http = new HttpClient(handler) { BaseAddress = _server.Address, Timeout = TimeSpan.FromMinutes(2) };
        var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@term.test", password = "term-test-password" })).AssertStatus(200);
        http.DefaultRequestHeaders.Authorization = new("Bearer", login["accessToken"]!.GetValue<string>());
        var from = await http.OpenFundedAccountAsync(1_000);
        var to = await http.OpenFundedAccountAsync(0);

        // The test holds the paying account's row: each transfer gets in, then waits inside its transaction.
        await using var blocker = new NpgsqlConnection(database);
        await blocker.OpenAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM accounts WHERE id = '{from}' FOR UPDATE", blocker, hold))
        {
            await lockRow.ExecuteScalarAsync();
        }

        var transfers = Enumerable.Range(0, InFlight)
            .Select(_ => http.SendAsync(MoneyHelpers.Post("/api/v1/transfers", new { fromAccountId = from, toAccountId = to, amount = 1 }, Guid.NewGuid().ToString())))
            .ToList();

        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        await WaitUntilAsync(async () => ActiveRequests(await scraper.GetStringAsync("/metrics")) >= InFlight, "the server never had 50 requests in flight");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stopping = _server.TerminateAsync();

        // Readiness fails first, while the node still answers (the probe itself is served).
        using (var probe = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = _server.Address, Timeout = TimeSpan.FromSeconds(5) })
        {
            await WaitUntilAsync(async () => (int)(await probe.GetAsync("/health/ready")).StatusCode == 503, "readiness never failed");
            Assert.Equal(200, (int)(await probe.GetAsync("/health/live")).StatusCode);
        }

        // After the drain the node stops accepting connections; the 50 are still in flight.
        await WaitUntilAsync(async () => !await AcceptsConnectionsAsync(_server.Port), "the node never stopped accepting connections");
        Assert.False(transfers.Any(t => t.IsCompleted), "an in-flight transfer ended before the row was released");

        await hold.RollbackAsync();
        foreach (var transfer in transfers)
        {
            var response = await transfer;
            Assert.True((int)response.StatusCode == 201, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{_server.Log}");
            var created = await response.AssertStatus(201);
            Assert.Equal(1, created["data"]!["amount"]!.GetValue<long>());
        }

        Assert.Equal(0, await stopping);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"the process took {clock.Elapsed} to exit, longer than its shutdown timeout");

        // Everything acknowledged is in the database, and the relay published it before the process left.
        Assert.Equal(InFlight, await ScalarAsync(blocker, $"SELECT count(*) FROM ledger_transactions WHERE from_account_id = '{from}'"));
        Assert.Equal(1_000 - InFlight, await ScalarAsync(blocker, $"SELECT balance FROM accounts WHERE id = '{from}'"));
        Assert.Equal(0, await ScalarAsync(blocker, "SELECT count(*) FROM outbox WHERE published_at IS NULL"));
        Assert.True(await ScalarAsync(blocker, "SELECT count(*) FROM outbox WHERE type = 'transfer.completed'") >= InFlight);
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>POSTs the server is handling now (ASP.NET Core's http.server.active_requests; the scrape itself is a GET).</summary>
    private static long ActiveRequests(string metrics) => PrometheusText.Sum(metrics, "http_server_active_requests", "http_request_method=\"POST\"");

    private static async Task<bool> AcceptsConnectionsAsync(int port)
    {
        try
        {
            using var socket = new System.Net.Sockets.TcpClient();
            await socket.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        for (var i = 0; i < 1200; i++)
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
}
