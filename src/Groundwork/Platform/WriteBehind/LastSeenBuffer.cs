using System.Collections.Concurrent;

namespace Groundwork.Platform.WriteBehind;

/// <summary>
/// Write-behind for "last seen" timestamps (a session's <c>lastSeenAt</c>, an API key's <c>lastUsedAt</c>): frequent,
/// loss-tolerant updates that must not turn every authenticated read into a database write. Requests record the
/// newest instant per object in memory; <see cref="WriteBehindFlusher"/> writes them in batches every interval and on
/// graceful shutdown. A crash loses at most one interval of these timestamps (docs/adr/0012-write-behind.md).
/// </summary>
public sealed class LastSeenBuffer
{
    private readonly ConcurrentDictionary<(string Kind, Guid Id), DateTime> _pending = new();

    /// <summary>Records that <paramref name="id"/> of <paramref name="kind"/> was used at <paramref name="at"/>; the latest wins.</summary>
    public void Touch(string kind, Guid id, DateTime at) =>
        _pending.AddOrUpdate((kind, id), at, (_, previous) => at > previous ? at : previous);

    /// <summary>What is buffered now (entries stay until <see cref="Forget"/> says they were written).</summary>
    internal KeyValuePair<(string Kind, Guid Id), DateTime>[] Snapshot() => _pending.ToArray();

    /// <summary>Drops written entries, unless a newer instant arrived meanwhile (then it waits for the next flush).</summary>
    internal void Forget(IEnumerable<KeyValuePair<(string Kind, Guid Id), DateTime>> written)
    {
        foreach (var entry in written)
        {
            _pending.TryRemove(entry);
        }
    }
}

/// <summary>Writes one kind of "last seen" timestamp (implemented by the feature that owns the table).</summary>
public interface ILastSeenWriter
{
    string Kind { get; }

    /// <summary>Sets each object's timestamp to the given instant unless it already holds a later one.</summary>
    Task WriteAsync(IReadOnlyCollection<(Guid Id, DateTime At)> entries, CancellationToken cancellationToken);
}
