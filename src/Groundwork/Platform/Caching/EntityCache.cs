using Groundwork.Platform.Redis;
using System.Collections.Concurrent;
using System.Text.Json;
using Groundwork.Platform.Http;
using Groundwork.Platform.Persistence;
using Microsoft.Extensions.Caching.Memory;

namespace Groundwork.Platform.Caching;

/// <summary>
/// Cache-aside reads and write-through writes of single entities (users, posts, orders, accounts), strict enough
/// that no read after an acknowledged write sees the old value, on any node:
/// <list type="bullet">
/// <item>Every entry carries its row version and every store is compare-and-set on it (fills and writes alike),
/// so the cache only moves forward; a deletion stores a tombstone above every version.</item>
/// <item>Writers store the new value after their commit and before the response (<see cref="CommitHooks"/>).</item>
/// <item>Without Redis (one node), entries live in this process's memory. With <c>Groundwork:Redis</c>, they live
/// in Redis, and each node keeps copies it serves only while it can prove them fresh (EntityCache.Copies.cs).</item>
/// <item>Concurrent misses of one key on a node share one database query (single flight).</item>
/// <item>While Redis is unreachable, reads go to the database (no request fails for it); keys written meanwhile
/// are deleted from Redis before this node reads it again. See docs/adr/0013-entity-cache.md.</item>
/// </list>
/// Authorization is the caller's job after the read: entries are the entity, never a caller's view of it.
/// </summary>
public sealed partial class EntityCache : IDisposable
{
    /// <summary>How long an entry lives without being written again.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    /// <summary>The version of a deletion's tombstone: above any row version, so no late fill revives the entity.</summary>
    internal const long TombstoneVersion = 1_000_000_000_000_000;

    /// <summary>
    /// The version of a repair's hold (<see cref="RepairAsync"/>): above any row version, so no fill or write-through
    /// replaces it, and below a tombstone, so a deletion still does. Reads treat it as a miss.
    /// </summary>
    internal const long HoldVersion = TombstoneVersion / 2;

    /// <summary>
    /// How long a repair's hold keeps an entry out of the cache: far longer than a fill takes from its database read
    /// to its store, so a fill that read the row before the repaired commit cannot store the old value after it.
    /// </summary>
    internal static readonly TimeSpan HoldLifetime = TimeSpan.FromSeconds(10);

    private const int MaxLocalEntries = 100_000;
    private const int MaxUnsyncedKeys = 100_000;
    private const byte DeleteKey = 0;
    private const byte BumpGeneration = 1;
    private static readonly TimeSpan ResyncRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan OutageLogInterval = TimeSpan.FromSeconds(30);

    private readonly MemoryCache _local = new(new MemoryCacheOptions { SizeLimit = MaxLocalEntries });

    /// <summary>List totals and generations, apart from entities: a flood of totals cannot crowd out an entity write.</summary>
    private readonly MemoryCache _localTotals = new(new MemoryCacheOptions { SizeLimit = MaxLocalEntries / 5 });
    private readonly Lock[] _stripes = Enumerable.Range(0, 64).Select(_ => new Lock()).ToArray();
    private readonly ConcurrentDictionary<string, Lazy<Task<Entry?>>> _loading = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _unsynced = new(StringComparer.Ordinal);
    private int _resyncRunning;
    private readonly IServiceScopeFactory _scopes;
    private readonly CacheStats _stats;
    private readonly TimeProvider _clock;
    private readonly ILogger<EntityCache> _logger;
    private readonly RedisEntityStore? _shared;
    private long _lastBadEntryLog;
    private volatile bool _unsyncedOverflow;

    public EntityCache(IServiceScopeFactory scopes, CacheStats stats, TimeProvider clock, ILogger<EntityCache> logger, RedisEntityStore? shared = null)
    {
        _scopes = scopes;
        _stats = stats;
        _clock = clock;
        _logger = logger;
        _shared = shared;
        _stoppingToken = _stopping.Token;
        if (shared is not null)
        {
            StartCopies(shared.Connection);
        }
    }

    private sealed record Entry(long Version, object? Value);

    /// <summary>
    /// The entity from the cache, else from <paramref name="load"/> (run in its own scope, once per key however
    /// many requests miss together) and stored. Null when it does not exist or was deleted.
    /// </summary>
    public async Task<T?> GetAsync<T>(CacheKind<T> kind, Guid id, Func<GroundworkDbContext, Guid, CancellationToken, Task<T?>> load, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(kind);
        var key = kind.Key(id);
        if (await TryReadAsync(kind, key) is ({ } hit, var fromRedis))
        {
            _stats.Hit(kind.Name, redis: fromRedis);
            return (T?)hit.Value;
        }

        var loading = _loading.GetOrAdd(key, _ => new Lazy<Task<Entry?>>(() => LoadAndStoreAsync(kind, key, id, load)));
        // Counted once joined: every counted miss shares the load under way (or starts it).
        _stats.Miss(kind.Name);
        var entry = await loading.Value.WaitAsync(cancellationToken);
        return (T?)entry?.Value;
    }

    /// <summary>Write-through: stores the committed value (call it after the commit, before answering).</summary>
    public Task PutAsync<T>(CacheKind<T> kind, Guid id, T value)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(value);
        return StoreAsync(kind, kind.Key(id), new Entry(kind.VersionOf(value), value), isWrite: true);
    }

    /// <summary>Marks a deleted entity: reads answer "not found" without a query, and no late fill revives it.</summary>
    public Task RemoveAsync<T>(CacheKind<T> kind, Guid id)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(kind);
        return StoreAsync(kind, kind.Key(id), new Entry(TombstoneVersion, null), isWrite: true);
    }

    private async Task<Entry?> LoadAndStoreAsync<T>(CacheKind<T> kind, string key, Guid id, Func<GroundworkDbContext, Guid, CancellationToken, Task<T?>> load)
        where T : class
    {
        try
        {
            // Shared by every request that missed: it must not die with the first one's scope or cancellation.
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            var value = await load(db, id, CancellationToken.None);
            // Absent rows are not cached: ids are server-made, and a miss costs one indexed lookup.
            return value is null ? null : await StoreAsync(kind, key, new Entry(kind.VersionOf(value), value), isWrite: false);
        }
        finally
        {
            // Done (or failed): the next miss loads afresh, whether or not anyone was still waiting for this one.
            _loading.TryRemove(key, out _);
        }
    }

    /// <returns>The entry (null on a miss), and whether Redis answered (rather than this process's memory).</returns>
    private async ValueTask<(Entry? Entry, bool FromRedis)> TryReadAsync<T>(CacheKind<T> kind, string key)
        where T : class
    {
        if (_shared is null)
        {
            return (_local.TryGetValue(key, out Entry? local) ? local : null, false);
        }

        if (!RedisUsable())
        {
            return (null, false);
        }

        if (kind.NodeCopies && await TryCopyAsync(key) is { } copy)
        {
            return (copy, false);
        }

        try
        {
            var epoch = Interlocked.Read(ref _epoch);
            if (await _shared.GetAsync(key) is not { } found || found.Version == HoldVersion)
            {
                return (null, false);
            }

            var entry = ToEntry(kind, found);
            if (kind.NodeCopies)
            {
                KeepCopy(key, entry, epoch);
            }

            return (entry, true);
        }
        catch (JsonException e)
        {
            // An entry of another shape (a release that changed the DTO without bumping the schema number): a miss.
            BadEntry(key, e);
            return (null, false);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            RedisFailed(e);
            return (null, false);
        }
    }

    /// <returns>What the cache holds afterwards: this entry, or a newer one that was already there.</returns>
    private async Task<Entry> StoreAsync<T>(CacheKind<T> kind, string key, Entry entry, bool isWrite)
        where T : class
    {
        if (_shared is null)
        {
            return StoreLocal(key, entry);
        }

        // A write always tries Redis, whatever this node's back-off says: other nodes may be reading Redis already,
        // and only this write can take the old value out of it. A fill only tries when reads do.
        if (isWrite || RedisUsable())
        {
            var json = entry.Value is null ? "" : JsonSerializer.Serialize((T)entry.Value, Json.Options);
            try
            {
                var announces = isWrite && kind.NodeCopies;
                var current = await _shared.PutAsync(key, entry.Version, json, Lifetime, announces);
                if (announces)
                {
                    await AfterSharedWriteAsync(RealTime.GetTimestamp());
                }

                // Under a repair's hold the database is read every time, and this value is what it said.
                return current is { } newer && newer.Version != HoldVersion ? ToEntry(kind, newer) : entry;
            }
            catch (JsonException e)
            {
                // Redis holds a newer entry of another shape: this value is right for now; leave Redis alone.
                BadEntry(key, e);
                return entry;
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                RedisFailed(e);
            }
        }

        if (isWrite)
        {
            // Redis may still hold the old value: delete it before this node reads Redis again.
            _copies.Remove(key);
            RememberUnsynced(key, DeleteKey);
        }

        return entry;
    }

    /// <summary>
    /// Notes a change Redis could not take. Until it is applied (by a background loop, as soon as Redis answers),
    /// this node neither reads nor writes Redis: its reads go to the database.
    /// </summary>
    private void RememberUnsynced(string key, byte action)
    {
        if (_unsynced.Count < MaxUnsyncedKeys)
        {
            _unsynced[key] = action;
        }
        else
        {
            _unsyncedOverflow = true;
        }

        StartResync();
    }

    private Entry StoreLocal(string key, Entry entry)
    {
        lock (_stripes[(key.GetHashCode(StringComparison.Ordinal) & int.MaxValue) % _stripes.Length])
        {
            if (_local.TryGetValue(key, out Entry? current) && current!.Version >= entry.Version)
            {
                return current;
            }

            var options = new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime };
            _local.Set(key, entry, options);
            if (!_local.TryGetValue(key, out _))
            {
                // A full cache refuses new entries until it has compacted; a write (or tombstone) must not be lost
                // that way, or a racing fill could store the old value after it.
                _local.Compact(0.1);
                _local.Set(key, entry, options);
            }

            return entry;
        }
    }

    private static Entry ToEntry<T>(CacheKind<T> kind, (long Version, ReadOnlyMemory<byte> Json) found)
        where T : class
    {
        if (found.Version >= TombstoneVersion)
        {
            return new Entry(found.Version, null);
        }

        var value = JsonSerializer.Deserialize<T>(found.Json.Span, Json.Options)
            ?? throw new JsonException($"Cached {kind.Name} is null");
        return new Entry(found.Version, kind.Restore(value, found.Version));
    }

    /// <summary>
    /// Whether reads (and fills) use Redis: not within the back-off after a failure, nor while changes it missed
    /// are still being applied. Writes always try.
    /// </summary>
    private bool RedisUsable()
    {
        return !_shared!.Connection.RecentlyFailed && _unsynced.IsEmpty && !_unsyncedOverflow;
    }

    /// <summary>Whether entries are shared with other nodes (in Redis), so a node's crash can leave one stale.</summary>
    internal bool Shared => _shared is not null;

    /// <summary>
    /// Repairs entries a crashed writer may have left stale (ADR 0024): each entity key gets a hold, which drops
    /// every node's copy and sends reads to the database for <see cref="HoldLifetime"/>; each list generation is
    /// bumped. Throws when Redis cannot take them all (the repair is then tried again).
    /// </summary>
    internal async Task RepairAsync(IReadOnlyCollection<string> keys)
    {
        if (_shared is null)
        {
            return;
        }

        static bool IsGeneration(string key) => key.StartsWith(RedisEntityStore.GenerationPrefix, StringComparison.Ordinal);
        try
        {
            // Sent together on the connection, not one after another.
            await Task.WhenAll(keys.Select(key =>
            {
                if (IsGeneration(key))
                {
                    return _shared.BumpGenerationAsync(key);
                }

                _copies.Remove(key);
                return _shared.PutAsync(key, HoldVersion, "", HoldLifetime, announce: true);
            }).ToList());
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            // This node's reads go to the database meanwhile; the caller keeps the record for another try.
            RedisFailed(e);
            throw;
        }

        if (!keys.All(IsGeneration))
        {
            // A hold was announced: answer only once every node has surely heard it.
            await AfterSharedWriteAsync(RealTime.GetTimestamp());
        }
    }

    /// <summary>Whether <see cref="RepairAsync"/> can be tried now (with Redis, and this node not backing off from it).</summary>
    internal bool CanRepair => _shared is not null && RedisUsable();

    /// <summary>Changes Redis has yet to receive from this node (tests).</summary>
    internal int PendingResync => _unsynced.Count + (_unsyncedOverflow ? 1 : 0);

    private static bool IsRedisFailure(Exception e) => RedisConnection.IsFailure(e);

    /// <summary>
    /// Applies what Redis missed, retrying every half second (whatever the back-off) until Redis answers: deletes
    /// the keys written meanwhile (every entity key after too many) and bumps the list generations.
    /// </summary>
    private void StartResync()
    {
        if (Interlocked.CompareExchange(ref _resyncRunning, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                while (!_unsynced.IsEmpty || _unsyncedOverflow)
                {
                    if (!await TryResyncAsync())
                    {
                        await Task.Delay(ResyncRetry, _clock);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _resyncRunning, 0);
                if (!_unsynced.IsEmpty || _unsyncedOverflow)
                {
                    StartResync();
                }
            }
        });
    }

    private async Task<bool> TryResyncAsync()
    {
        try
        {
            if (_unsyncedOverflow)
            {
                _logger.LogWarning("Redis was unreachable during more than {Count} writes; dropping the whole entity cache", MaxUnsyncedKeys);
                _unsyncedOverflow = false;
                try
                {
                    await _shared!.DeleteAllAsync();
                }
                catch
                {
                    _unsyncedOverflow = true;
                    throw;
                }
            }

            foreach (var (key, action) in _unsynced.ToArray())
            {
                if (action == DeleteKey)
                {
                    await _shared!.DeleteAsync(key);
                }
                else
                {
                    await _shared!.BumpGenerationAsync(key);
                }

                _unsynced.TryRemove(KeyValuePair.Create(key, action));
            }

            _shared!.Connection.Succeeded();
            return true;
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            RedisFailed(e);
            return false;
        }
    }

    private void BadEntry(string key, JsonException e)
    {
        _stats.Error();
        var now = _clock.GetTimestamp();
        var last = Interlocked.Read(ref _lastBadEntryLog);
        if ((last == 0 || _clock.GetElapsedTime(last, now) > OutageLogInterval) && Interlocked.CompareExchange(ref _lastBadEntryLog, now, last) == last)
        {
            _logger.LogWarning("A cached entry ({Key}) has an unexpected shape and is dropped; bump its CacheKind schema when a DTO changes: {Reason}", key, e.Message);
        }

        _ = DropQuietlyAsync(key);
    }

    private async Task DropQuietlyAsync(string key)
    {
        try
        {
            await _shared!.DeleteAsync(key);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            RedisFailed(e);
        }
    }

    private void RedisFailed(Exception e)
    {
        _stats.Error();
        _shared!.Connection.Failed(e);
    }

    public void Dispose()
    {
        // Cancelled, not disposed: subscription callbacks may still read its token.
        _stopping.Cancel();
        _local.Dispose();
        _localTotals.Dispose();
        _copies.Dispose();
    }
}
