using System.Collections.Concurrent;

namespace Groundwork.Platform.WriteBehind;

/// <summary>
/// Write-behind for "last seen" timestamps (a session's <c>lastSeenAt</c>, an API key's <c>lastUsedAt</c>): frequent,
/// loss-tolerant updates that must not turn every authenticated read into a database write. Requests record the
/// newest instant per object in memory; <see cref="LastSeenFlusher"/> writes them in batches every interval and on
/// graceful shutdown. A crash loses at most one interval of these timestamps (docs/adr/0012-write-behind.md).
/// </summary>
public sealed class LastSeenBuffer
{
    private ConcurrentDictionary<(string Kind, Guid Id), DateTime> _pending = new();

    /// <summary>Records that <paramref name="id"/> of <paramref name="kind"/> was used at <paramref name="at"/>; the latest wins.</summary>
    public void Touch(string kind, Guid id, DateTime at) =>
        _pending.AddOrUpdate((kind, id), at, (_, previous) => at > previous ? at : previous);

    public int Count => _pending.Count;

    /// <summary>Takes everything recorded so far, leaving an empty buffer for the requests that follow.</summary>
    internal IReadOnlyDictionary<(string Kind, Guid Id), DateTime> Drain() =>
        Interlocked.Exchange(ref _pending, new ConcurrentDictionary<(string Kind, Guid Id), DateTime>());

    /// <summary>Puts back what a failed flush could not write, unless newer instants arrived meanwhile.</summary>
    internal void Restore(IReadOnlyDictionary<(string Kind, Guid Id), DateTime> entries)
    {
        foreach (var ((kind, id), at) in entries)
        {
            Touch(kind, id, at);
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
