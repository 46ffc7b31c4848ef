using System.Diagnostics.Metrics;

namespace Groundwork.Platform.Caching;

/// <summary>
/// Hits and misses of the entity cache, per level and kind, as OpenTelemetry-style counters
/// (<c>groundwork.cache.hits</c>, <c>groundwork.cache.misses</c>, <c>groundwork.cache.errors</c>) and as totals
/// for tests and the benchmark's hit ratio.
/// </summary>
public sealed class CacheStats : IDisposable
{
    public const string MeterName = "Groundwork.Cache";
    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;
    private readonly Counter<long> _errors;
    private long _hitCount;
    private long _missCount;
    private long _l2HitCount;
    private long _errorCount;

    public CacheStats()
    {
        _hits = _meter.CreateCounter<long>("groundwork.cache.hits", description: "Entity reads answered by the cache");
        _misses = _meter.CreateCounter<long>("groundwork.cache.misses", description: "Entity reads that went to the database");
        _errors = _meter.CreateCounter<long>("groundwork.cache.errors", description: "Redis calls of the cache that failed or timed out");
    }

    public long Hits => Interlocked.Read(ref _hitCount);

    /// <summary>Hits answered by Redis; without Redis every hit comes from this node's memory instead.</summary>
    public long RedisHits => Interlocked.Read(ref _l2HitCount);

    public long Misses => Interlocked.Read(ref _missCount);

    public long Errors => Interlocked.Read(ref _errorCount);

    internal void Hit(string kind, bool redis)
    {
        Interlocked.Increment(ref _hitCount);
        if (redis)
        {
            Interlocked.Increment(ref _l2HitCount);
        }

        _hits.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("level", redis ? "redis" : "memory"));
    }

    internal void Miss(string kind)
    {
        Interlocked.Increment(ref _missCount);
        _misses.Add(1, new KeyValuePair<string, object?>("kind", kind));
    }

    internal void Error()
    {
        Interlocked.Increment(ref _errorCount);
        _errors.Add(1);
    }

    public void Dispose() => _meter.Dispose();
}
