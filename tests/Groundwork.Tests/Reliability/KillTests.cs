using Groundwork.Features.Accounts;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Features.Ledger;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Groundwork.Tests.Reliability;

/// <summary>
/// Drives transfers against a real server process on PostgreSQL, kills it with SIGKILL twice mid-load,
/// restarts it, retries every unacknowledged request with its key, and proves that every acknowledged transfer
/// exists exactly once, nothing else exists, and the ledger invariants hold.
/// </summary>
public sealed class KillTests(PostgresServer postgres) : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-kill-" + Guid.NewGuid().ToString("N")[..8]);
    private ServerProcess? _server;
    private string _connectionString = "";

    private async Task StartServerAsync(Uri? address = null)
    {
        // A restarted "node" listens where the old one did, so the client keeps its address.
        _server = new ServerProcess(_folder, _connectionString, port: address?.Port);
        await _server.StartAsync();
    }

    private void Kill()
    {
        _server?.Kill();
        _server = null;
    }

    [Fact]
    public async Task Acknowledged_transfers_survive_two_sigkills_exactly_once()
    {
        Directory.CreateDirectory(_folder);
        _connectionString = await postgres.CreateDatabaseAsync();
        await StartServerAsync();
        var address = _server!.Address;
        Assert.Equal(0, await _server.RunCommandAsync("create-admin --email admin@kill.test --name Admin",
            new Dictionary<string, string> { ["GROUNDWORK_ADMIN_PASSWORD"] = "kill-test-password" }));

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@kill.test", password = "kill-test-password" })).AssertStatus(200);
        http.DefaultRequestHeaders.Authorization = new("Bearer", login["accessToken"]!.GetValue<string>());
        var accounts = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var account = await (await http.PostAsJsonAsync("/api/v1/accounts", new { currency = "EUR" })).AssertStatus(201);
            var id = Guid.Parse(account["data"]!["id"]!.GetValue<string>());
            accounts.Add(id);
            var deposit = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/accounts/{id}/deposits") { Content = JsonContent.Create(new { amount = 1_000_000 }) };
            deposit.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            await (await http.SendAsync(deposit)).AssertStatus(201);
        }

        var acknowledged = new ConcurrentDictionary<string, Guid>();
        var unacknowledged = new ConcurrentDictionary<string, object>();
        using var load = new CancellationTokenSource();

        async Task<(int Status, Guid? Id)> SendAsync(string key, object body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/transfers") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", key);
            var response = await http.SendAsync(request);
            if ((int)response.StatusCode == 201)
            {
                var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                return (201, Guid.Parse(json["data"]!["id"]!.GetValue<string>()));
            }

            return ((int)response.StatusCode, null);
        }

        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (!load.IsCancellationRequested)
            {
                var from = random.Next(4);
                var body = new { fromAccountId = accounts[from], toAccountId = accounts[(from + 1 + random.Next(3)) % 4], amount = random.Next(1, 500) };
                var key = Guid.NewGuid().ToString();
                try
                {
                    var (status, id) = await SendAsync(key, body);
                    if (status == 201)
                    {
                        acknowledged[key] = id!.Value;
                    }
                    else if (status != 422)
                    {
                        unacknowledged[key] = body;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    unacknowledged[key] = body;
                    await Task.Delay(50);
                }
            }
        })).ToList();

        // Kill once enough transfers were acknowledged since the last start: a count, not a delay, so a slow or
        // fast machine gives the same test.
        async Task WaitForAcknowledgedAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (acknowledged.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {acknowledged.Count} of {count} transfers acknowledged");
                await Task.Delay(20);
            }
        }

        for (var kill = 0; kill < 2; kill++)
        {
            await WaitForAcknowledgedAsync(20 * (kill + 1));
            Kill();
            await Task.Delay(300);
            await StartServerAsync(address);
        }

        await WaitForAcknowledgedAsync(60);
        await load.CancelAsync();
        await Task.WhenAll(workers);
        Assert.NotEmpty(unacknowledged);

        // Retry every unacknowledged request with its own key until it is answered for good.
        foreach (var (key, body) in unacknowledged)
        {
            for (var attempt = 0; ; attempt++)
            {
                var (status, id) = await SendAsync(key, body);
                if (status == 201)
                {
                    acknowledged[key] = id!.Value;
                    break;
                }

                if (status == 422)
                {
                    break;
                }

                Assert.True(status == 409 && attempt < 20, $"retry of {key} answered {status}");
                await Task.Delay(500);
            }
        }

        var options = new DbContextOptionsBuilder<Groundwork.Platform.Persistence.PostgresGroundworkDbContext>();
        options.UseNpgsql(_connectionString).UseSnakeCaseNamingConvention();
        await using var db = new Groundwork.Platform.Persistence.PostgresGroundworkDbContext(options.Options);
        var stored = await db.LedgerTransactions.Where(t => t.Type == TransactionType.Transfer).Select(t => t.Id).ToListAsync();
        Assert.Equal(stored.Count, stored.Distinct().Count());
        Assert.Equal(acknowledged.Values.Order(), stored.Order());
        Assert.Equal(4_000_000, await db.Accounts.Where(a => accounts.Contains(a.Id)).SumAsync(a => a.Balance));

        var report = await (await http.GetAsync("/api/v1/admin/ledger/verify")).AssertStatus(200);
        Assert.True(report["ok"]!.GetValue<bool>(), report.ToJsonString());
        Kill();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        NpgsqlConnection.ClearAllPools();
        await Task.Yield();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
