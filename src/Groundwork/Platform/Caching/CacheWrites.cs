using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Caching;

/// <summary>
/// Write-through from inside an operation: the new value (or a deletion's tombstone) is stored once the
/// pipeline's transaction commits and before the caller is answered, so no read after the acknowledgement, on
/// any node, sees the old value. Nothing is stored when the transaction rolls back.
/// </summary>
public sealed class CacheWrites(EntityCache cache, CommitHooks hooks)
{
    public void Put<T>(CacheKind<T> kind, Guid id, T value)
        where T : class => hooks.AfterCommit(() => cache.PutAsync(kind, id, value));

    /// <summary>Several entities of a kind, stored at once (with Redis, the writes are sent together on one connection, not one after another).</summary>
    public void PutAll<T>(CacheKind<T> kind, IReadOnlyList<(Guid Id, T Value)> entities)
        where T : class => hooks.AfterCommit(() => Task.WhenAll(entities.Select(e => cache.PutAsync(kind, e.Id, e.Value))));

    public void Remove<T>(CacheKind<T> kind, Guid id)
        where T : class => hooks.AfterCommit(() => cache.RemoveAsync(kind, id));

    /// <summary>The change can alter which rows <paramref name="list"/> holds: its cached totals go stale.</summary>
    public void ListChanged(string list) => hooks.AfterCommit(() => cache.ListChangedAsync(list));
}
