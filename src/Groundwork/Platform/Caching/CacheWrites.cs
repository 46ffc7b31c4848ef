using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Caching;

/// <summary>
/// Write-through from inside an operation: the new value (or a deletion's tombstone) is stored once the
/// pipeline's transaction commits and before the caller is answered, so no read after the acknowledgement, on
/// any node, sees the old value. Nothing is stored when the transaction rolls back. Every key is also noted in the
/// transaction's repair record (<see cref="CacheRepairJournal"/>), so a node dying between the commit and these
/// writes leaves nothing stale for long.
/// </summary>
public sealed class CacheWrites(EntityCache cache, CommitHooks hooks, CacheRepairJournal journal)
{
    public void Put<T>(CacheKind<T> kind, Guid id, T value)
        where T : class
    {
        Declare(kind, id);
        hooks.AfterCommit(() => cache.PutAsync(kind, id, value));
    }

    /// <summary>Several entities of a kind, stored at once (with Redis, the writes are sent together on one connection, not one after another).</summary>
    public void PutAll<T>(CacheKind<T> kind, IReadOnlyList<(Guid Id, T Value)> entities)
        where T : class
    {
        foreach (var (id, _) in entities)
        {
            Declare(kind, id);
        }

        hooks.AfterCommit(() => Task.WhenAll(entities.Select(e => cache.PutAsync(kind, e.Id, e.Value))));
    }

    /// <summary>
    /// Declares a write-through that is registered later, at the commit point, because its value is known only there
    /// (a money movement's balances): the key must be in the repair record, which is staged before that.
    /// </summary>
    public void Declare<T>(CacheKind<T> kind, Guid id)
        where T : class => journal.Note(kind.Key(id));

    public void Remove<T>(CacheKind<T> kind, Guid id)
        where T : class
    {
        Declare(kind, id);
        hooks.AfterCommit(() => cache.RemoveAsync(kind, id));
    }

    /// <summary>The change can alter which rows <paramref name="list"/> holds: its cached totals go stale.</summary>
    public void ListChanged(string list)
    {
        journal.Note(EntityCache.GenerationKey(list));
        hooks.AfterCommit(() => cache.ListChangedAsync(list));
    }
}
