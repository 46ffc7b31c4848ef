namespace Groundwork.Platform.Caching;

/// <summary>
/// One kind of cached entity: its key space and how to read the row version from a value. The schema number is
/// part of every key (<c>gw:e:user:v1:{id}</c>), so a release that changes the cached shape bumps it and never reads
/// an entry written by an older node.
/// </summary>
/// <typeparam name="T">An immutable snapshot (the DTO the operations return).</typeparam>
public sealed class CacheKind<T>(string name, int schema, Func<T, long> versionOf, Func<T, long, T>? withVersion = null)
    where T : class
{
    public string Name { get; } = name;

    public string Key(Guid id) => $"{RedisEntityStore.Prefix}{Name}:v{schema}:{id:N}";

    /// <summary>The row version, bumped by every write: the cache keeps the newest version it was given.</summary>
    public long VersionOf(T value) => versionOf(value);

    /// <summary>
    /// Whether nodes keep copies of this kind (with Redis, ADR 0022): worth it for entities read far more often than
    /// written. Every node must agree (it is fixed in code), since writers announce and wait only for kinds that
    /// have copies.
    /// </summary>
    public bool NodeCopies { get; init; } = true;

    /// <summary>Restores what JSON leaves out (a DTO's <c>[JsonIgnore]</c> version) after a read from Redis.</summary>
    internal T Restore(T value, long version) => withVersion is null ? value : withVersion(value, version);
}
