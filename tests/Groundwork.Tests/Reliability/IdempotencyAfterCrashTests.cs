using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Tests.Infrastructure;
using Npgsql;

namespace Groundwork.Tests.Reliability;

/// <summary>
/// Two server processes on one PostgreSQL database. A transfer is caught inside its transaction on node A (the
/// test holds the account's row lock), A is killed with SIGKILL, and the client retries the same key on node B at
/// once. Because the idempotency record is written in the business transaction, A's death leaves no claim behind:
/// B runs the transfer (no 409, no waiting for a claim to expire) and the money moves exactly once.
/// </summary>
public sealed class IdempotencyAfterCrashTests(PostgresServer postgres) : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-crash-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<ServerProcess> _nodes = [];

    [Fact]
    public async Task A_retry_on_another_node_completes_at_once_after_the_first_node_dies_mid_transaction()
    {
        Directory.CreateDirectory(_folder);
        var connectionString = await postgres.CreateDatabaseAsync();
        var a = Node(connectionString);
        var b = Node(connectionString);
        await a.StartAsync();
        await b.StartAsync();
        Assert.Equal(0, await a.RunCommandAsync("create-admin --email admin@takeover.test --name Admin",
            new Dictionary<string, string> { ["GROUNDWORK_ADMIN_PASSWORD"] = "takeover-password" }));

        using var clientA = await SignedInAsync(a.Address);
        using var clientB = await SignedInAsync(b.Address);
        var from = await OpenAccountAsync(clientA);
        var to = await OpenAccountAsync(clientA);
        var deposit = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/accounts/{from}/deposits") { Content = JsonContent.Create(new { amount = 1_000 }) };
        deposit.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        await (await clientA.SendAsync(deposit)).AssertStatus(201);

        var key = Guid.NewGuid().ToString();
        var body = new { fromAccountId = from, toAccountId = to, amount = 250 };
        await using (var blocker = new NpgsqlConnection(connectionString))
        {
            await blocker.OpenAsync();
            await using var hold = await blocker.BeginTransactionAsync();
            await using (var lockRows = new NpgsqlCommand("SELECT 1 FROM accounts WHERE id = ANY(@ids) FOR UPDATE", blocker, hold))
            {
                lockRows.Parameters.AddWithValue("ids", new[] { from, to });
                await lockRows.ExecuteNonQueryAsync();
            }

            // Node A claims the key and then waits on the row lock, inside its transaction.
            var inFlight = clientA.SendAsync(Transfer(key, body));
            await WaitUntilABackendWaitsOnALockAsync(connectionString);
            a.Kill();
            await Assert.ThrowsAnyAsync<Exception>(() => inFlight);
            await hold.RollbackAsync();
        }

        // Retried at once on node B: it runs (201, not a replay, not 409) and the money moves once.
        var retry = await clientB.SendAsync(Transfer(key, body));
        var created = await retry.AssertStatus(201);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        var replay = await clientB.SendAsync(Transfer(key, body));
        Assert.Equal(created.ToJsonString(), (await replay.AssertStatus(201)).ToJsonString());
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());

        await using var check = new NpgsqlConnection(connectionString);
        await check.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM ledger_transactions WHERE from_account_id = @from AND type = @type", check);
        count.Parameters.AddWithValue("from", from);
        count.Parameters.AddWithValue("type", "transfer");
        Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        var report = await (await clientB.GetAsync("/api/v1/admin/ledger/verify")).AssertStatus(200);
        Assert.True(report["ok"]!.GetValue<bool>(), report.ToJsonString());
        var balance = await (await clientB.GetAsync($"/api/v1/accounts/{from}")).AssertStatus(200);
        Assert.Equal(750, balance["data"]!["balance"]!.GetValue<long>());
    }

    private ServerProcess Node(string connectionString)
    {
        var node = new ServerProcess(_folder, connectionString);
        _nodes.Add(node);
        return node;
    }

    private static HttpRequestMessage Transfer(string key, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/transfers") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private static async Task<HttpClient> SignedInAsync(Uri address)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        var login = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@takeover.test", password = "takeover-password" })).AssertStatus(200);
        client.DefaultRequestHeaders.Authorization = new("Bearer", login["accessToken"]!.GetValue<string>());
        return client;
    }

    private static async Task<Guid> OpenAccountAsync(HttpClient client)
    {
        var account = await (await client.PostAsJsonAsync("/api/v1/accounts", new { currency = "EUR" })).AssertStatus(201);
        return Guid.Parse(account["data"]!["id"]!.GetValue<string>());
    }

    /// <summary>A condition, not a delay: some backend of this database is blocked on a lock.</summary>
    private static async Task WaitUntilABackendWaitsOnALockAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await using var waiting = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
            if ((long)(await waiting.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the transfer never reached the locked row");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

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
