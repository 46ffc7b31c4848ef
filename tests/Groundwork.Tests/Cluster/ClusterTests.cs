using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Tests.Infrastructure;
using Npgsql;

namespace Groundwork.Tests.Cluster;

/// <summary>
/// The production topology, started by deploy/local-cluster.sh: two nodes sharing PostgreSQL, Redis and RabbitMQ
/// behind nginx. What one node acknowledges, the other (and nginx) must honour.
/// </summary>
public sealed class ClusterTests(LocalCluster cluster) : IClassFixture<LocalCluster>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_write_acknowledged_by_one_node_is_never_read_stale_through_the_other()
    {
        using var a = await cluster.AdminClientAsync(cluster.Node(1));
        using var b = await cluster.AdminClientAsync(cluster.Node(2));
        var user = await (await a.PostAsJsonAsync("/api/v1/users", new { email = GroundworkApp.UniqueEmail("stale"), name = "Start", password = "long-enough-1" }, Cancel)).AssertStatus(201);
        var id = user["data"]!["id"]!.GetValue<string>();
        await (await b.GetAsync($"/api/v1/users/{id}", Cancel)).AssertStatus(200); // cached on B now

        // 500 requests: each write on one node, then the read on the other, alternating.
        for (var i = 0; i < 250; i++)
        {
            var (writer, reader) = i % 2 == 0 ? (a, b) : (b, a);
            var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/users/{id}") { Content = JsonContent.Create(new { name = $"Name {i}" }) };
            await (await writer.SendAsync(patch, Cancel)).AssertStatus(200);
            var read = await (await reader.GetAsync($"/api/v1/users/{id}", Cancel)).AssertStatus(200);
            Assert.Equal($"Name {i}", read["data"]!["name"]!.GetValue<string>());
        }

        // Deleted on one node: gone on the other and through nginx.
        await (await a.DeleteAsync($"/api/v1/users/{id}", Cancel)).AssertStatus(204);
        await (await b.GetAsync($"/api/v1/users/{id}", Cancel)).AssertError(404, "NOT_FOUND");
        using var proxy = await cluster.AdminClientAsync(cluster.Address);
        await (await proxy.GetAsync($"/api/v1/users/{id}", Cancel)).AssertError(404, "NOT_FOUND");
    }

    [Fact]
    public async Task A_stream_on_one_node_receives_events_committed_on_the_other()
    {
        using var a = await cluster.AdminClientAsync(cluster.Node(1));
        using var b = await cluster.AdminClientAsync(cluster.Node(2), Timeout.InfiniteTimeSpan);
        await using var stream = await SseClient.OpenAsync(b, "?types=post.published");

        var post = await (await a.PostAsJsonAsync("/api/v1/posts", new { title = "from node 1", content = "hello", published = true }, Cancel)).AssertStatus(201);
        var id = post["data"]!["id"]!.GetValue<string>();
        var (match, _) = await stream.NextMatchingAsync(e => e.Data["subject"]!.GetValue<string>() == id);
        Assert.Equal("post.published", match.Type);
    }

    [Fact]
    public async Task A_rate_limit_is_one_bucket_across_the_nodes()
    {
        // Six sign-ups from one address through both nodes: the limit (two a minute) lets two through in total.
        var statuses = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            using var client = new HttpClient { BaseAddress = cluster.Node(i % 2 + 1) };
            var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail("limit"), name = "N", password = "long-enough-1" }, Cancel);
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal(2, statuses.Count(s => s == 201));
        Assert.Equal(4, statuses.Count(s => s == 429));
        Assert.Equal(2, await ScalarAsync("SELECT count(*) FROM users WHERE email LIKE 'limit-%'"));
    }

    [Fact]
    public async Task An_idempotent_retry_landing_on_the_other_node_replays_the_first_answer()
    {
        using var a = await cluster.AdminClientAsync(cluster.Node(1));
        using var b = await cluster.AdminClientAsync(cluster.Node(2));
        var (from, to) = (await a.OpenFundedAccountAsync(1_000), await a.OpenFundedAccountAsync(0));

        var key = Guid.NewGuid().ToString();
        var first = await a.SendAsync(Transfer(from, to, 300, key), Cancel);
        var firstBody = await first.Content.ReadAsStringAsync(Cancel);
        Assert.Equal(201, (int)first.StatusCode);
        var retry = await b.SendAsync(Transfer(from, to, 300, key), Cancel);
        Assert.Equal(201, (int)retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(firstBody, await retry.Content.ReadAsStringAsync(Cancel));
        Assert.Equal(700, await BalanceAsync(b, from));
        Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM ledger_transactions WHERE from_account_id = '{from}'"));
    }

    [Fact]
    public async Task Killing_a_node_under_load_loses_and_duplicates_no_acknowledged_transfer_and_the_node_rejoins()
    {
        using var admin = await cluster.AdminClientAsync(cluster.Address);
        var accounts = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            accounts.Add(await admin.OpenFundedAccountAsync(1_000_000));
        }

        // Eight clients send transfers through nginx; each retries a request until it is acknowledged, with the
        // same key (the node that had it may be dead: nginx sends the retry to the other).
        var acknowledged = new ConcurrentDictionary<string, (Guid From, Guid To, long Amount)>();
        using var load = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            using var http = await cluster.AdminClientAsync(cluster.Address, TimeSpan.FromSeconds(10));
            var random = new Random(worker);
            while (!load.IsCancellationRequested)
            {
                var from = accounts[random.Next(4)];
                var to = accounts.Where(a => a != from).ElementAt(random.Next(3));
                var amount = random.Next(1, 100);
                var key = Guid.NewGuid().ToString();
                for (var attempt = 0; ; attempt++)
                {
                    Assert.True(attempt < 200, "a transfer was never acknowledged");
                    try
                    {
                        var response = await http.SendAsync(Transfer(from, to, amount, key));
                        if ((int)response.StatusCode == 201)
                        {
                            acknowledged[key] = (from, to, amount);
                            break;
                        }

                        // 502/503 from nginx while the node is down, 409 while the first attempt still runs.
                        Assert.Contains((int)response.StatusCode, new[] { 409, 502, 503, 504 });
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                    }

                    await Task.Delay(50);
                }
            }
        })).ToList();

        // A client that broke (an unexpected answer) ends the wait at once with its reason.
        bool Progress(int target) => acknowledged.Count >= target || clients.Any(c => c.IsCompleted);
        await WaitUntilAsync(() => Progress(50));
        await cluster.KillNodeAsync(1);
        var atKill = acknowledged.Count;
        await WaitUntilAsync(() => Progress(atKill + 100));
        await cluster.StartNodeAsync(1);
        var atRejoin = acknowledged.Count;
        await WaitUntilAsync(() => Progress(atRejoin + 50));
        await load.CancelAsync();
        await Task.WhenAll(clients);

        // Every acknowledged transfer exists exactly once, with its amount; nothing else moved money.
        var moved = await ScalarAsync($"SELECT coalesce(sum(amount), 0) FROM ledger_transactions WHERE type = 'transfer' AND from_account_id IN ({string.Join(',', accounts.Select(a => $"'{a}'"))})");
        var count = await ScalarAsync($"SELECT count(*) FROM ledger_transactions WHERE type = 'transfer' AND from_account_id IN ({string.Join(',', accounts.Select(a => $"'{a}'"))})");
        Assert.Equal(acknowledged.Count, count);
        Assert.Equal(acknowledged.Values.Sum(t => t.Amount), moved);
        foreach (var account in accounts)
        {
            var expected = 1_000_000 - acknowledged.Values.Where(t => t.From == account).Sum(t => t.Amount) + acknowledged.Values.Where(t => t.To == account).Sum(t => t.Amount);
            Assert.Equal(expected, await BalanceAsync(admin, account));
        }

        // The restarted node serves again, directly and behind nginx.
        using var rejoined = await cluster.AdminClientAsync(cluster.Node(1));
        await (await rejoined.GetAsync($"/api/v1/accounts/{accounts[0]}", Cancel)).AssertStatus(200);
        var verify = await (await admin.GetAsync("/api/v1/admin/ledger/verify", Cancel)).AssertStatus(200);
        Assert.True(verify["ok"]!.GetValue<bool>(), verify.ToJsonString());
        Assert.Empty(verify["violations"]!.AsArray());
    }

    private static HttpRequestMessage Transfer(Guid from, Guid to, long amount, string key) =>
        MoneyHelpers.Post("/api/v1/transfers", new { fromAccountId = from, toAccountId = to, amount }, key);

    private static async Task<long> BalanceAsync(HttpClient client, Guid account) =>
        (await (await client.GetAsync($"/api/v1/accounts/{account}", Cancel)).AssertStatus(200))["data"]!["balance"]!.GetValue<long>();

    private async Task<long> ScalarAsync(string sql)
    {
        await using var db = new NpgsqlConnection(cluster.Database);
        await db.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Cancel), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1200 && !condition(); i++)
        {
            await Task.Delay(100, Cancel);
        }

        Assert.True(condition(), "the load did not make progress");
    }
}
