using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace Groundwork.Platform.Caching;

/// <summary>
/// Exact list totals without a count per request. Each list (<c>users</c>, <c>posts</c>, …) has a generation that
/// every write to it bumps after its commit and before its answer (<see cref="CacheWrites.ListChanged"/>). A total
/// is stored per filter with the generation read before counting, and used only while the generation is still the
/// same: a count that raced a write is never used after that write was acknowledged. A generation starts at a
/// random number, so one that is lost (evicted, dropped) and started again never matches an old total.
/// </summary>
public sealed partial class EntityCache
{
    /// <summary>How long a total is kept when nothing changes the list.</summary>
    public static readonly TimeSpan TotalLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The total of <paramref name="list"/> under <paramref name="filter"/>, from the cache or from <paramref name="count"/>.</summary>
    public async Task<int> GetTotalAsync(string list, string filter, Func<CancellationToken, Task<int>> count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(count);
        // Metrics name the kind of list (orders), never one user's list.
        var metricKind = "total:" + list.Split(':')[0];
        // {list} is a hash tag: the total and its generation share a cluster slot, so one MGET reads both.
        var totalKey = $"{RedisEntityStore.Prefix}total:{{{list}}}:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(filter)), 0, 16)}";
        if (_shared is null)
        {
            var generation = LocalGeneration(list, bump: false);
            if (_localTotals.TryGetValue(totalKey, out (long Generation, int Total) local) && local.Generation == generation)
            {
                _stats.Hit(metricKind, redis: false);
                return local.Total;
            }

            _stats.Miss(metricKind);
            var counted = await count(cancellationToken);
            _localTotals.Set(totalKey, (generation, counted), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = TotalLifetime });
            return counted;
        }

        var generationKey = GenerationKey(list);
        string? generationRead = null;
        if (RedisUsable())
        {
            try
            {
                var (currentGeneration, stored) = await _shared.GetBothAsync(generationKey, totalKey);
                generationRead = currentGeneration ?? await _shared.StartGenerationAsync(generationKey);
                var colon = stored?.IndexOf(':', StringComparison.Ordinal) ?? -1;
                if (colon > 0 && stored.AsSpan(0, colon).SequenceEqual(generationRead)
                    && int.TryParse(stored.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var cached))
                {
                    _stats.Hit(metricKind, redis: true);
                    return cached;
                }
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                RedisFailed(e);
                generationRead = null;
            }
        }

        _stats.Miss(metricKind);
        var total = await count(cancellationToken);
        if (generationRead is not null)
        {
            try
            {
                await _shared.SetAsync(totalKey, $"{generationRead}:{total.ToString(CultureInfo.InvariantCulture)}", TotalLifetime);
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                RedisFailed(e);
            }
        }

        return total;
    }

    /// <summary>Makes every stored total of <paramref name="list"/> stale (call it after the commit, before answering).</summary>
    public async Task ListChangedAsync(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        if (_shared is null)
        {
            LocalGeneration(list, bump: true);
            return;
        }

        // Always tried, whatever this node's back-off says: other nodes may be reading Redis already.
        try
        {
            await _shared.BumpGenerationAsync(GenerationKey(list));
            return;
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            RedisFailed(e);
        }

        // Bumped once Redis is reachable again, before this node reads it.
        RememberUnsynced(GenerationKey(list), BumpGeneration);
    }

    internal static string GenerationKey(string list) => $"{RedisEntityStore.GenerationPrefix}{{{list}}}";

    /// <summary>
    /// This process's generation of a list (kept in the bounded memory cache for an hour after its last use; a
    /// new one starts at a random number).
    /// </summary>
    private long LocalGeneration(string list, bool bump)
    {
        var key = "gen:" + list;
        if (!bump && _localTotals.TryGetValue(key, out long current))
        {
            return current;
        }

        lock (_stripes[(key.GetHashCode(StringComparison.Ordinal) & int.MaxValue) % _stripes.Length])
        {
            var generation = _localTotals.TryGetValue(key, out long existing) ? existing : Random.Shared.NextInt64(1, long.MaxValue / 2);
            if (bump)
            {
                generation++;
            }

            _localTotals.Set(key, generation, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromHours(1) });
            return generation;
        }
    }
}
