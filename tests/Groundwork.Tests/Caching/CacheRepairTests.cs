using System.Net.Http.Headers;
using System.Net.Http.Json;
using Groundwork.Features.Accounts;
using Groundwork.Features.Ledger;
using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Caching;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Caching;

/// <summary>
/// Two live nodes on one database and one Redis, and a way to start a third that "dies" between its commits and its
/// cache writes: its Redis address has nobody listening, so every write-through it makes is lost with it, exactly as
/// when a node is killed after COMMIT. The live nodes repair only when a test says so (<c>RepairAfter</c> is an
/// hour), so each test sees the stale entry first.
/// </summary>
public abstract class RepairCluster : IAsyncLifetime
{
    private readonly string _keys = Path.Combine(Path.GetTempPath(), "gw-keys-" + Guid.NewGuid().ToString("N")[..12]);
    private string _database = "";

    public RedisServer Redis { get; } = new();

    public GroundworkApp A { get; private set; } = null!;

    public GroundworkApp B { get; private set; } = null!;

    protected abstract Provider Provider { get; }

    /// <summary>The connection string every node shares.</summary>
    protected abstract Task<string> CreateDatabaseAsync();

    public async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        _database = await CreateDatabaseAsync();
        A = new ClusterNode(Provider, _database, _keys, NodeSettings(Redis.Configuration));
        await A.InitializeAsync();
        B = new ClusterNode(Provider, _database, _keys, NodeSettings(Redis.Configuration));
        await B.InitializeAsync();
        await RedisReady.WaitAsync(A, B);
    }

    /// <summary>Waits until both nodes use Redis again (after an outage a test made).</summary>
    public async Task SettledAsync()
    {
        await RedisReady.WaitAsync(A, B);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!A.Service<EntityCache>().CanRepair || !B.Service<EntityCache>().CanRepair)
        {
            Assert.True(DateTime.UtcNow < deadline, "the nodes never settled back on Redis");
            await Task.Delay(50);
        }
    }

    /// <summary>A node whose cache writes never arrive (its Redis is a closed port); dispose it to "kill" it.</summary>
    public async Task<GroundworkApp> DoomedNodeAsync()
    {
        var node = new ClusterNode(Provider, _database, _keys, NodeSettings($"127.0.0.1:{PostgresServer.FreePort()},connectTimeout=200"));
        await node.InitializeAsync();
        return node;
    }

    private static Dictionary<string, string?> NodeSettings(string redis) =>
        new() { ["Groundwork:Redis"] = redis, ["Groundwork:Cache:RepairAfter"] = "01:00:00" };

    public virtual async ValueTask DisposeAsync()
    {
        try
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
        finally
        {
            await Redis.DisposeAsync();
            Directory.Delete(_keys, recursive: true);
        }
    }
}

public sealed class PostgresRepairCluster(PostgresServer postgres) : RepairCluster
{
    protected override Provider Provider => Provider.Postgres;

    protected override Task<string> CreateDatabaseAsync() => postgres.CreateDatabaseAsync();
}

/// <summary>The nodes share one SQLite file (the embedded default with Redis turned on).</summary>
public sealed class SqliteRepairCluster : RepairCluster
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-repair-" + Guid.NewGuid().ToString("N")[..12]);

    protected override Provider Provider => Provider.Sqlite;

    protected override Task<string> CreateDatabaseAsync()
    {
        Directory.CreateDirectory(_folder);
        return Task.FromResult($"Data Source={Path.Combine(_folder, "gw.db")}");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

public abstract class CacheRepairTests(RepairCluster cluster)
{
    private static HttpClient On(GroundworkApp node, Actor actor)
    {
        var client = node.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", actor.AccessToken);
        return client;
    }

    private static async Task<string> NameOnAsync(GroundworkApp node, Actor user) =>
        (await (await On(node, user).GetAsync($"/api/v1/users/{user.Id}")).AssertStatus(200))["data"]!["name"]!.GetValue<string>();

    private static async Task<long> BalanceOnAsync(GroundworkApp node, Actor owner, Guid account) =>
        (await (await On(node, owner).GetAsync($"/api/v1/accounts/{account}")).AssertStatus(200))["data"]!["balance"]!.GetValue<long>();

    private Task<List<CacheRepair>> RecordsAsync() =>
        cluster.A.Db(db => db.CacheRepairs.AsNoTracking().ToListAsync());

    [Fact]
    public async Task A_write_whose_node_died_before_its_cache_write_is_repaired_by_a_live_node_from_the_record_it_committed()
    {
        var user = await cluster.A.ActorAsync(name: "Before");
        Assert.Equal("Before", await NameOnAsync(cluster.B, user));
        var userKey = UserCache.Kind.Key(user.Id);

        await using (var doomed = await cluster.DoomedNodeAsync())
        {
            await (await On(doomed, user).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "After" })).AssertStatus(200);
            Assert.True(doomed.Service<EntityCache>().PendingResync > 0);
        }

        // Committed, but the cache still answers with the value from before: the window this closes.
        Assert.Equal("After", await cluster.A.Db(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.Name).SingleAsync()));
        Assert.Equal("Before", await NameOnAsync(cluster.B, user));
        var record = Assert.Single(await RecordsAsync(), r => r.Keys.Split('\n').Contains(userKey));
        Assert.Null(record.Claim);
        // The dead node's sweep never ran, and neither did its delete: a live node's sweep finds the record.
        Assert.True(await cluster.B.Service<CacheRepairSweeper>().SweepAsync(TimeSpan.Zero, CancellationToken.None) >= 1);

        Assert.Empty(await RecordsAsync());
        Assert.StartsWith($"{EntityCache.HoldVersion}:", await RedisReady.CliAsync(cluster.Redis, "GET", userKey));
        Assert.Equal("After", await NameOnAsync(cluster.B, user));
        Assert.Equal("After", await NameOnAsync(cluster.A, user));
        // A write after the repair is read on the other node as always (the hold gives way to nothing older, and
        // the database answers while it lasts).
        await (await On(cluster.A, user).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "Later" })).AssertStatus(200);
        Assert.Equal("Later", await NameOnAsync(cluster.B, user));
    }

    /// <summary>
    /// Two cached accounts (1,000 and 0), and a keyed transfer of 300 between them made on a node that then died
    /// before its cache writes: the balances on B are still the old ones, and the transfer's record is left.
    /// </summary>
    private async Task<(Actor Owner, Guid From, Guid To, string Key, object Transfer, string FirstBody, CacheRepair Record)> TransferOnADyingNodeAsync()
    {
        var admin = await cluster.A.ActorAsync(Role.Admin);
        var owner = await cluster.A.ActorAsync();
        var from = Guid.Parse((await (await On(cluster.A, owner).PostAsJsonAsync("/api/v1/accounts", new { currency = "EUR" })).AssertStatus(201))["data"]!["id"]!.GetValue<string>());
        var to = Guid.Parse((await (await On(cluster.A, owner).PostAsJsonAsync("/api/v1/accounts", new { currency = "EUR" })).AssertStatus(201))["data"]!["id"]!.GetValue<string>());
        await (await On(cluster.A, admin).SendAsync(MoneyHelpers.Post($"/api/v1/accounts/{from}/deposits", new { amount = 1_000 }, Guid.NewGuid().ToString()))).AssertStatus(201);
        Assert.Equal(1_000, await BalanceOnAsync(cluster.B, owner, from));
        Assert.Equal(0, await BalanceOnAsync(cluster.B, owner, to));

        var key = Guid.NewGuid().ToString();
        var transfer = new { fromAccountId = from, toAccountId = to, amount = 300 };
        string firstBody;
        await using (var doomed = await cluster.DoomedNodeAsync())
        {
            var first = await On(doomed, owner).SendAsync(MoneyHelpers.Post("/api/v1/transfers", transfer, key));
            firstBody = await first.Content.ReadAsStringAsync();
            await first.AssertStatus(201);
        }

        Assert.Equal(700, await cluster.A.BalanceAsync(from));
        Assert.Equal(1_000, await BalanceOnAsync(cluster.B, owner, from));
        var record = Assert.Single(await RecordsAsync(), r => r.Claim is not null && r.Claim.EndsWith("\n" + key, StringComparison.Ordinal));
        Assert.Contains(AccountCache.Kind.Key(from), record.Keys.Split('\n'));
        Assert.Contains(AccountCache.Kind.Key(to), record.Keys.Split('\n'));
        return (owner, from, to, key, transfer, firstBody, record);
    }

    [Fact]
    public async Task A_replayed_transfer_whose_first_node_died_before_its_cache_writes_repairs_the_balances_before_it_answers()
    {
        var (owner, from, to, key, transfer, firstBody, record) = await TransferOnADyingNodeAsync();

        // The client, never answered (or answered just before the node died), retries on another node.
        var replay = await On(cluster.B, owner).SendAsync(MoneyHelpers.Post("/api/v1/transfers", transfer, key));
        Assert.Equal(201, (int)replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync());

        Assert.DoesNotContain(await RecordsAsync(), r => r.Id == record.Id);
        Assert.Equal(700, await BalanceOnAsync(cluster.B, owner, from));
        Assert.Equal(300, await BalanceOnAsync(cluster.B, owner, to));
        Assert.Equal(700, await BalanceOnAsync(cluster.A, owner, from));
        Assert.Equal(1, await cluster.A.Db(db => db.LedgerTransactions.CountAsync(t => t.FromAccountId == from)));
    }

    [Fact]
    public async Task A_replay_while_Redis_is_down_still_answers_and_leaves_the_record_for_the_sweep()
    {
        var (owner, from, to, key, transfer, firstBody, record) = await TransferOnADyingNodeAsync();
        await cluster.Redis.StopAsync();
        try
        {
            var replay = await On(cluster.B, owner).SendAsync(MoneyHelpers.Post("/api/v1/transfers", transfer, key));
            Assert.Equal(201, (int)replay.StatusCode);
            Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
            Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync());
            Assert.Contains(await RecordsAsync(), r => r.Id == record.Id);
            // Without Redis, reads come from the database.
            Assert.Equal(700, await BalanceOnAsync(cluster.B, owner, from));
        }
        finally
        {
            await cluster.Redis.StartAsync();
        }

        await cluster.SettledAsync();
        Assert.True(await cluster.B.Service<CacheRepairSweeper>().SweepAsync(TimeSpan.Zero, CancellationToken.None) >= 1);
        Assert.DoesNotContain(await RecordsAsync(), r => r.Id == record.Id);
        Assert.Equal(700, await BalanceOnAsync(cluster.B, owner, from));
        Assert.Equal(300, await BalanceOnAsync(cluster.A, owner, to));
    }

    [Fact]
    public async Task A_key_declared_after_the_record_was_staged_is_refused_so_no_write_through_goes_unrecorded()
    {
        await using var scope = cluster.A.Services.CreateAsyncScope();
        var journal = scope.ServiceProvider.GetRequiredService<CacheRepairJournal>();
        var db = scope.ServiceProvider.GetRequiredService<Groundwork.Platform.Persistence.GroundworkDbContext>();
        var first = UserCache.Kind.Key(Guid.NewGuid());
        var second = UserCache.Kind.Key(Guid.NewGuid());
        journal.Note(first);
        journal.Stage(db, scope.ServiceProvider.GetRequiredService<Groundwork.Platform.Operations.CommitHooks>(), claim: null);

        journal.Note(first);
        var refused = Assert.Throws<InvalidOperationException>(() => journal.Note(second));
        Assert.Contains(second, refused.Message, StringComparison.Ordinal);
        var staged = Assert.Single(db.ChangeTracker.Entries<CacheRepair>()).Entity;
        Assert.Equal(first, staged.Keys);

        // The next transaction of the scope starts afresh.
        journal.Reset();
        journal.Note(second);
    }

    [Fact]
    public async Task A_backlog_is_swept_in_batches_and_records_younger_than_the_age_stay()
    {
        var now = DateTime.UtcNow;
        // 40 minutes old: past the 30 minutes this sweep is given, short of the hour after which the nodes' own
        // background sweeps would take them too.
        var old = Enumerable.Range(0, 1_200).Select(_ => new CacheRepair { CreatedAt = now.AddMinutes(-40), Keys = $"{RedisEntityStore.Prefix}test:v1:{Guid.NewGuid():N}" }).ToList();
        var young = new CacheRepair { CreatedAt = now, Keys = $"{RedisEntityStore.Prefix}test:v1:{Guid.NewGuid():N}" };
        await cluster.A.Db(async db =>
        {
            db.CacheRepairs.AddRange(old);
            db.CacheRepairs.Add(young);
            return await db.SaveChangesAsync();
        });

        Assert.Equal(1_200, await cluster.B.Service<CacheRepairSweeper>().SweepAsync(TimeSpan.FromMinutes(30), CancellationToken.None));

        // (Other records may be there: the live nodes' own, waiting for their delete.)
        var left = (await RecordsAsync()).Select(r => r.Id).ToHashSet();
        Assert.Contains(young.Id, left);
        Assert.DoesNotContain(old, r => left.Contains(r.Id));
        Assert.StartsWith($"{EntityCache.HoldVersion}:", await RedisReady.CliAsync(cluster.Redis, "GET", old[^1].Keys));
        Assert.Equal("", await RedisReady.CliAsync(cluster.Redis, "GET", young.Keys));
        await cluster.A.Db(db => db.CacheRepairs.Where(r => r.Id == young.Id).ExecuteDeleteAsync());
    }

    [Fact]
    public async Task A_live_nodes_writes_leave_no_record_behind_once_written_through()
    {
        var user = await cluster.A.ActorAsync();
        await (await On(cluster.A, user).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "Renamed" })).AssertStatus(200);
        var userKey = UserCache.Kind.Key(user.Id);

        // Deleted in the next batch (every second): polled, not timed.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await RecordsAsync()).Any(r => r.Keys.Split('\n').Contains(userKey)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the live node never deleted its completed record");
            await Task.Delay(100);
        }

        // Nothing was repaired: the entry is the written value, not a hold.
        var entry = await RedisReady.CliAsync(cluster.Redis, "GET", userKey);
        Assert.DoesNotContain($"{EntityCache.HoldVersion}:", entry, StringComparison.Ordinal);
        Assert.Contains("\"Renamed\"", entry, StringComparison.Ordinal);
        Assert.Equal("Renamed", await NameOnAsync(cluster.B, user));
    }
}

public sealed class CacheRepairOnPostgresTests(PostgresRepairCluster cluster) : CacheRepairTests(cluster), IClassFixture<PostgresRepairCluster>;

public sealed class CacheRepairOnSqliteTests(SqliteRepairCluster cluster) : CacheRepairTests(cluster), IClassFixture<SqliteRepairCluster>;
