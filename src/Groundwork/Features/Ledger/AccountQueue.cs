using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Groundwork.Features.Ledger;

/// <summary>
/// Lines up this node's money movements per account, first come first served, before they reach PostgreSQL's row
/// locks (docs/adr/0018-account-queue.md). The row lock stays what makes a movement safe; the queue only decides
/// who waits where. Without it, every transfer on a hot account waits on the same row: each commit wakes all of
/// them, one wins at random, and the rest go back to sleep. On two cores that churn cost PostgreSQL about a third
/// of its CPU at 32 concurrent transfers on one pair, and random winners gave a p99 several times the mean.
/// Queued here, one movement per account and node is at the row at a time, and the others wait in order.
/// <para>
/// Entered in id order (as the rows are locked), after which a movement waits only on account rows, so the queue
/// adds no cycle. It is an optimisation, never a requirement: a movement that waited <see cref="MaxWait"/> goes on
/// to the row lock without it, so even an unforeseen cycle costs a delay, not a hang.
/// </para>
/// </summary>
public sealed class AccountQueue(TimeSpan? maxWait = null)
{
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromSeconds(2);

    /// <summary>How long a movement waits for its turn before it goes on to the row locks without it.</summary>
    public TimeSpan MaxWait { get; } = maxWait ?? DefaultMaxWait;

    private static readonly Meter Meter = new("Groundwork.Money");
    private static readonly Histogram<double> Wait = Meter.CreateHistogram<double>("groundwork.money.queue_wait", unit: "s",
        description: "How long a money movement waited in this node's queue for its accounts");
    private static readonly Counter<long> Bypassed = Meter.CreateCounter<long>("groundwork.money.queue_bypassed", unit: "{movement}",
        description: "Movements that went on to the row locks after waiting the queue's maximum");
    private static readonly Histogram<double> Hold = Meter.CreateHistogram<double>("groundwork.money.queue_hold", unit: "s",
        description: "How long a money movement held its turn: from entering to its transaction's end (the row locks' hold time on a hot account)");

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Slot> _slots = [];

    /// <summary>Accounts with a movement queued or running on this node (for tests: drained queues leave nothing behind).</summary>
    public int ActiveAccounts
    {
        get
        {
            lock (_lock)
            {
                return _slots.Count;
            }
        }
    }

    /// <summary>
    /// Waits for this node's turn on both accounts; dispose the turn when the transaction has ended. After
    /// <see cref="MaxWait"/> it returns a turn that holds nothing: the movement then queues on the row locks as it
    /// would without this.
    /// </summary>
    public async Task<Turn> EnterAsync(Guid first, Guid second, CancellationToken cancellationToken)
    {
        // The same account twice is entered once (a second wait would be on its own turn).
        var ids = first.CompareTo(second) switch { 0 => new[] { first }, < 0 => [first, second], _ => [second, first] };
        var turn = new Turn(this);
        var started = Stopwatch.GetTimestamp();
        foreach (var id in ids)
        {
            var slot = Rent(id);
            bool entered;
            try
            {
                // Past the wait, a free account is still taken (a zero wait only tries).
                var remaining = MaxWait - Stopwatch.GetElapsedTime(started);
                entered = await slot.Gate.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken);
            }
            catch
            {
                Return(id, slot, held: false);
                turn.Dispose();
                throw;
            }

            if (!entered)
            {
                // Goes on to the row locks with no turn at all: a turn held on one account only could make a cycle.
                Return(id, slot, held: false);
                turn.GiveBack();
                Bypassed.Add(1);
                break;
            }

            turn.Add(id, slot);
        }

        Wait.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return turn;
    }

    private Slot Rent(Guid id)
    {
        lock (_lock)
        {
            if (!_slots.TryGetValue(id, out var slot))
            {
                slot = new Slot();
                _slots[id] = slot;
            }

            slot.Users++;
            return slot;
        }
    }

    private void Return(Guid id, Slot slot, bool held)
    {
        lock (_lock)
        {
            if (held)
            {
                slot.Gate.Release();
            }

            // The last user removes the slot, so the map holds only accounts in use.
            if (--slot.Users == 0)
            {
                _slots.Remove(id);
            }
        }
    }

    /// <summary>
    /// One account in use. SemaphoreSlim hands a released count to its asynchronous waiters in the order they came
    /// (its implementation keeps them in a linked list; the documentation promises no order, and a test pins it).
    /// </summary>
    internal sealed class Slot
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public int Users { get; set; }
    }

    /// <summary>A movement's place at its accounts on this node, until disposed (when its transaction ends).</summary>
    public sealed class Turn : IDisposable
    {
        private readonly AccountQueue _queue;
        private readonly List<(Guid Id, Slot Slot)> _held = new(2);
        /// <summary>When its last account was entered: from then on the movement holds its whole turn.</summary>
        private long _enteredAt;

        internal Turn(AccountQueue queue) => _queue = queue;

        /// <summary>Given back: the transaction that took it has ended.</summary>
        public bool Ended { get; private set; }

        internal void Add(Guid id, Slot slot)
        {
            _held.Add((id, slot));
            _enteredAt = Stopwatch.GetTimestamp();
        }

        public void Dispose()
        {
            // Measured here, where the transaction ended, not when a wait gave up on its second account.
            if (_held.Count > 0)
            {
                Hold.Record(Stopwatch.GetElapsedTime(_enteredAt).TotalSeconds);
            }

            GiveBack();
            Ended = true;
        }

        internal void GiveBack()
        {
            for (var i = _held.Count - 1; i >= 0; i--)
            {
                _queue.Return(_held[i].Id, _held[i].Slot, held: true);
            }

            _held.Clear();
        }
    }
}
