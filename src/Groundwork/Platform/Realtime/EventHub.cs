using System.Threading.Channels;
using Groundwork.Platform.Messaging;

namespace Groundwork.Platform.Realtime;

/// <summary>
/// This node's fan-out of published events to its open streams (SSE, GraphQL subscriptions, gRPC). The broker
/// feeds it: directly in process, or from this node's own RabbitMQ queue. Delivery to a subscriber never blocks
/// the publisher: each has a bounded queue, and a subscriber that falls behind (queue full, a broker reconnect)
/// is told so and reads what it missed from the database, where every event stays for the retention period.
/// </summary>
public sealed class EventHub
{
    /// <summary>Events a subscriber may have queued before it is told to read the database instead.</summary>
    public const int SubscriberCapacity = 1_024;

    private readonly Lock _gate = new();
    private Subscription[] _subscriptions = [];
    private long _lastSequence;

    /// <summary>The highest sequence this hub has seen published.</summary>
    public long LastSequence => Volatile.Read(ref _lastSequence);

    public int SubscriberCount => Volatile.Read(ref _subscriptions).Length;

    public Subscription Subscribe()
    {
        var subscription = new Subscription(this);
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    /// <summary>Hands events (in sequence order) to every subscriber; never waits.</summary>
    public void Publish(IReadOnlyList<EventEnvelope> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        RaiseLast(events.Max(e => e.Sequence));
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            foreach (var e in events)
            {
                subscription.Offer(e);
            }
        }
    }

    /// <summary>
    /// Tells every subscriber that events up to <paramref name="sequence"/> exist that this hub may not have
    /// delivered (a broker reconnect, or the database is ahead of what arrived); each catches up from the database.
    /// </summary>
    public void MarkBehind(long sequence)
    {
        RaiseLast(sequence);
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            subscription.FellBehind();
        }
    }

    private void RaiseLast(long sequence)
    {
        var current = Volatile.Read(ref _lastSequence);
        while (sequence > current)
        {
            var seen = Interlocked.CompareExchange(ref _lastSequence, sequence, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions.Where(s => s != subscription)];
        }
    }

    /// <summary>One stream's queue. Dispose it when the stream ends.</summary>
    public sealed class Subscription : IDisposable
    {
        /// <summary>Queued after a subscriber fell behind, so a reader waiting for events wakes to catch up.</summary>
        internal static readonly EventEnvelope Wake = new(Guid.Empty, "", default, Guid.Empty, -1, "null", EventAudience.Everyone);

        private readonly EventHub _hub;
        private readonly Channel<EventEnvelope> _queue = Channel.CreateBounded<EventEnvelope>(
            new BoundedChannelOptions(SubscriberCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        private int _behind;

        internal Subscription(EventHub hub) => _hub = hub;

        public ChannelReader<EventEnvelope> Events => _queue.Reader;

        /// <summary>Whether events were dropped or may be missing since the last call (read the database from the last position).</summary>
        public bool TakeBehind() => Interlocked.Exchange(ref _behind, 0) == 1;

        internal void Offer(EventEnvelope e)
        {
            if (!_queue.Writer.TryWrite(e))
            {
                Volatile.Write(ref _behind, 1);
            }
        }

        internal void FellBehind()
        {
            Volatile.Write(ref _behind, 1);
            _queue.Writer.TryWrite(Wake);
        }

        public void Dispose() => _hub.Remove(this);
    }
}
