using System.Collections.Concurrent;

namespace Groundwork.Platform.WriteBehind;

/// <summary>
/// Write-behind for counters (a post's views): requests add to an in-memory delta per object, and
/// <see cref="WriteBehindFlusher"/> adds the deltas to the rows in batches. Only what was written is subtracted,
/// so views counted during a flush wait for the next one; a crash loses at most one interval of counts
/// (docs/adr/0012-write-behind.md).
/// </summary>
public sealed class CounterBuffer
{
    private readonly ConcurrentDictionary<(string Kind, Guid Id), long> _pending = new();

    public void Add(string kind, Guid id, long delta = 1) => _pending.AddOrUpdate((kind, id), delta, (_, current) => current + delta);

    /// <summary>The delta not yet written for one object (what a read adds to the stored count).</summary>
    public long Pending(string kind, Guid id) => _pending.TryGetValue((kind, id), out var delta) ? delta : 0;

    internal KeyValuePair<(string Kind, Guid Id), long>[] Snapshot() => _pending.ToArray();

    /// <summary>Subtracts written deltas; an entry leaves once nothing new arrived for it meanwhile.</summary>
    internal void Written(IEnumerable<KeyValuePair<(string Kind, Guid Id), long>> written)
    {
        foreach (var (key, delta) in written)
        {
            var left = _pending.AddOrUpdate(key, -delta, (_, current) => current - delta);
            if (left == 0)
            {
                _pending.TryRemove(KeyValuePair.Create(key, 0L));
            }
        }
    }
}

/// <summary>Adds one kind of counter's deltas to its rows (implemented by the feature that owns the table).</summary>
public interface ICounterWriter
{
    string Kind { get; }

    Task WriteAsync(IReadOnlyCollection<(Guid Id, long Delta)> entries, CancellationToken cancellationToken);
}
