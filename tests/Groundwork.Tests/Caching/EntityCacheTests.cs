using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Caching;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Caching;

/// <summary>
/// The entity cache's guarantees, driven directly with loaders the test controls (gates instead of sleeps), on
/// both levels: this process's memory (no Redis) and Redis.
/// </summary>
public abstract class EntityCacheTests(GroundworkApp app)
{
    private static readonly CacheKind<UserDto> Kind = new("test-user", 1, u => u.Version, (u, v) => u with { Version = (int)v });

    private EntityCache Cache => app.Service<EntityCache>();

    private CacheStats Stats => app.Service<CacheStats>();

    private static UserDto User(Guid id, int version, string name) =>
        new(id, "cached@example.com", name, Role.User, DateTime.UnixEpoch, DateTime.UnixEpoch) { Version = version };

    private static Func<GroundworkDbContext, Guid, CancellationToken, Task<UserDto?>> Gated(Task<UserDto?> result, Action? onCall = null) =>
        (_, _, _) =>
        {
            onCall?.Invoke();
            return result;
        };

    private static Func<GroundworkDbContext, Guid, CancellationToken, Task<UserDto?>> MustNotLoad =>
        (_, _, _) => throw new InvalidOperationException("the cache should have answered");

    [Fact]
    public async Task A_fill_that_read_the_row_before_a_write_cannot_overwrite_the_value_written_through()
    {
        var id = Guid.CreateVersion7();
        var slowLoad = new TaskCompletionSource<UserDto?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Cache.GetAsync(Kind, id, Gated(slowLoad.Task), CancellationToken.None);

        // The write commits and writes through while the fill still holds the old row.
        await Cache.PutAsync(Kind, id, User(id, 2, "new"));
        slowLoad.SetResult(User(id, 1, "old"));

        Assert.Equal("new", (await reading)!.Name);
        var again = await Cache.GetAsync(Kind, id, MustNotLoad, CancellationToken.None);
        Assert.Equal(("new", 2), (again!.Name, again.Version));
    }

    [Fact]
    public async Task Writes_arriving_out_of_order_leave_the_newest_version()
    {
        var id = Guid.CreateVersion7();
        await Cache.PutAsync(Kind, id, User(id, 3, "third"));
        await Cache.PutAsync(Kind, id, User(id, 2, "second"));

        var cached = await Cache.GetAsync(Kind, id, MustNotLoad, CancellationToken.None);
        Assert.Equal(("third", 3), (cached!.Name, cached.Version));
    }

    [Fact]
    public async Task A_deleted_entity_stays_deleted_even_when_a_late_fill_arrives()
    {
        var id = Guid.CreateVersion7();
        await Cache.PutAsync(Kind, id, User(id, 4, "alive"));
        await Cache.RemoveAsync(Kind, id);
        Assert.Null(await Cache.GetAsync(Kind, id, MustNotLoad, CancellationToken.None));

        // A late store of a row read before the deletion, whatever version it carries, does not revive it.
        await Cache.PutAsync(Kind, id, User(id, 5, "revived?"));
        Assert.Null(await Cache.GetAsync(Kind, id, MustNotLoad, CancellationToken.None));
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_of_one_key_run_one_load()
    {
        var id = Guid.CreateVersion7();
        var loads = 0;
        var gate = new TaskCompletionSource<UserDto?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var missesBefore = Stats.Misses;
        var readers = Enumerable.Range(0, 100)
            .Select(_ => Task.Run(() => Cache.GetAsync(Kind, id, Gated(gate.Task, () => Interlocked.Increment(ref loads)), CancellationToken.None)))
            .ToArray();

        // Every reader has missed (and joined the one load) before the load may finish.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Stats.Misses - missesBefore < 100)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {Stats.Misses - missesBefore} of 100 readers missed");
            await Task.Delay(10);
        }

        gate.SetResult(User(id, 1, "loaded once"));
        var results = await Task.WhenAll(readers);

        Assert.Equal(1, loads);
        Assert.All(results, r => Assert.Equal("loaded once", r!.Name));
        var hitsBefore = Stats.Hits;
        Assert.Equal("loaded once", (await Cache.GetAsync(Kind, id, MustNotLoad, CancellationToken.None))!.Name);
        Assert.Equal(hitsBefore + 1, Stats.Hits);
    }

    [Fact]
    public async Task Absent_rows_are_not_cached()
    {
        var id = Guid.CreateVersion7();
        var loads = 0;
        Assert.Null(await Cache.GetAsync(Kind, id, Gated(Task.FromResult<UserDto?>(null), () => loads++), CancellationToken.None));
        Assert.Equal("created", (await Cache.GetAsync(Kind, id, Gated(Task.FromResult<UserDto?>(User(id, 1, "created")), () => loads++), CancellationToken.None))!.Name);
        Assert.Equal(2, loads);
    }
}

public sealed class EntityCacheInMemoryTests(SqliteApp app) : EntityCacheTests(app), IClassFixture<SqliteApp>;

public sealed class RedisCacheApp : IAsyncLifetime
{
    public RedisServer Redis { get; } = new();

    public SqliteAppWith App { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        App = new Node(Redis.Configuration);
        await App.InitializeAsync();
        await RedisReady.WaitAsync(App);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.DisposeAsync();
        }
        finally
        {
            await Redis.DisposeAsync();
        }
    }

    private sealed class Node(string redis) : SqliteAppWith(new Dictionary<string, string?> { ["Groundwork:Redis"] = redis });
}

public sealed class EntityCacheInRedisTests(RedisCacheApp fixture) : EntityCacheTests(fixture.App), IClassFixture<RedisCacheApp>
{
    [Fact]
    public async Task Entries_live_in_Redis_with_their_version()
    {
        var id = Guid.CreateVersion7();
        await fixture.App.Service<EntityCache>().PutAsync(new CacheKind<UserDto>("test-user", 1, u => u.Version), id, new UserDto(id, "r@example.com", "In Redis", Role.User, DateTime.UnixEpoch, DateTime.UnixEpoch) { Version = 7 });

        var raw = await RedisReady.GetAsync(fixture.Redis, $"gw:e:test-user:v1:{id:N}");
        Assert.StartsWith("7:{", raw, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"In Redis\"", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_is_read_back_from_its_bytes_with_every_character_intact()
    {
        var id = Guid.CreateVersion7();
        var kind = new CacheKind<UserDto>("test-user", 1, u => u.Version, (u, v) => u with { Version = (int)v });
        // Two- and three-byte UTF-8 characters stay unescaped in the stored JSON; the rest are JSON escapes.
        const string name = "Zoë 日本 😀 \"quoted\" back\\slash";
        await fixture.App.Service<EntityCache>().PutAsync(kind, id, new UserDto(id, "u@example.com", name, Role.User, DateTime.UnixEpoch, DateTime.UnixEpoch) { Version = 12 });
        Assert.Contains("Zoë 日本", await RedisReady.GetAsync(fixture.Redis, kind.Key(id)), StringComparison.Ordinal);

        var cached = await fixture.App.Service<EntityCache>().GetAsync(kind, id, (_, _, _) => throw new InvalidOperationException("the cache should have answered"), CancellationToken.None);

        Assert.Equal((name, 12), (cached!.Name, cached.Version));
    }

    [Theory]
    [InlineData("5:{\"id\":12}", true)]
    [InlineData("5:not json", true)]
    [InlineData("five:{}", false)]
    [InlineData("-5:{}", false)]
    [InlineData("99999999999999999999:{}", false)]
    [InlineData("", false)]
    public async Task An_entry_of_another_shape_is_a_miss_that_reads_the_database(string stored, bool badJson)
    {
        var id = Guid.CreateVersion7();
        var kind = new CacheKind<UserDto>("test-user", 1, u => u.Version, (u, v) => u with { Version = (int)v });
        await RedisReady.SetAsync(fixture.Redis, kind.Key(id), stored);
        Assert.Equal(stored, await RedisReady.GetAsync(fixture.Redis, kind.Key(id)));
        var stats = fixture.App.Service<CacheStats>();
        var (errorsBefore, missesBefore) = (stats.Errors, stats.Misses);
        var loads = 0;

        var read = await fixture.App.Service<EntityCache>().GetAsync(kind, id, (_, _, _) =>
        {
            Interlocked.Increment(ref loads);
            return Task.FromResult<UserDto?>(new UserDto(id, "u@example.com", "From the database", Role.User, DateTime.UnixEpoch, DateTime.UnixEpoch) { Version = 5 });
        }, CancellationToken.None);

        Assert.Equal(("From the database", 1), (read!.Name, loads));
        Assert.True(stats.Misses > missesBefore, "the read was not counted as a miss");
        // An entry whose JSON does not fit is counted as an error (and dropped); one without a version is simply no entry.
        Assert.Equal(badJson, stats.Errors > errorsBefore);
    }
}

/// <summary>Waits for a node's Redis connection (readiness reports it), and reads raw keys with redis-cli.</summary>
public static class RedisReady
{
    public static async Task WaitAsync(params GroundworkApp[] apps)
    {
        foreach (var node in apps)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await (await node.CreateClient().GetAsync("/health/ready")).Content.ReadAsStringAsync() != "Healthy")
            {
                Assert.True(DateTime.UtcNow < deadline, "the node did not connect to Redis");
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Runs one redis-cli command against the test's Redis; its output, without the final newline.</summary>
    public static async Task<string> CliAsync(RedisServer redis, params string[] command)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("redis-cli", ["-p", redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--raw", .. command])
        {
            RedirectStandardOutput = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return output.TrimEnd('\n');
    }

    public static async Task SetAsync(RedisServer redis, string key, string value) =>
        Assert.Equal("OK", await CliAsync(redis, "SET", key, value));

    public static Task<string> GetAsync(RedisServer redis, string key) => CliAsync(redis, "GET", key);
}
