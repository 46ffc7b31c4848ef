using System.Diagnostics.Metrics;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Auth;

/// <summary>
/// Where bcrypt runs: on a thread of its own per hash (not the thread pool), at most one per core at a time; further
/// hashes wait their turn asynchronously, holding no thread, up to <see cref="MaxWaiting"/>.
/// </summary>
/// <remarks>
/// A hash is 50-250 ms of CPU. Run on the thread pool, 32 concurrent logins kept every pool thread busy for seconds
/// and everything else the node does queued behind them: on two cores a cheap GET waited up to 2 s, and Redis replies
/// (completed on the pool) timed out, which switched the node to its in-process fallbacks for 5 s. Capped at the
/// number of cores, hashing still uses the whole CPU when it has to, and the operating system shares the cores
/// between it and the pool's threads instead of the pool's queue holding everything back (ADR 0025).
/// </remarks>
public sealed class PasswordWork
{
    private static readonly Meter Meter = new("Groundwork.Auth");
    private static readonly UpDownCounter<long> WaitingGauge = Meter.CreateUpDownCounter<long>("groundwork.auth.hashing_waiting",
        unit: "{hash}", description: "Password hashes waiting for a core (logins, sign-ups, password changes)");

    /// <summary>Hashes that may wait per slot: at 50-250 ms a hash, a few seconds of work queued on each core.</summary>
    public const int WaitingPerSlot = 32;

    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("groundwork.auth.hashing_refused",
        unit: "{hash}", description: "Password hashes refused because too many were waiting (503 to the caller)");

    private readonly SemaphoreSlim _slots;
    private int _waiting;

    public PasswordWork()
        : this(Environment.ProcessorCount)
    {
    }

    public PasswordWork(int slots, int waitingPerSlot = WaitingPerSlot)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(waitingPerSlot, 0);
        Slots = slots;
        MaxWaiting = slots * waitingPerSlot;
        _slots = new SemaphoreSlim(slots, slots);
    }

    /// <summary>How many hashes may run at once.</summary>
    public int Slots { get; }

    /// <summary>
    /// How many may wait; one more is refused at once (<see cref="NodeBusyException"/>: 503 with Retry-After), so a
    /// flood of logins is cheap to refuse instead of making every login wait out its request timeout.
    /// </summary>
    public int MaxWaiting { get; }

    /// <summary>Hashes waiting for a slot now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// Refuses at once, as <see cref="RunAsync{T}"/> would, when no more hashes may wait. An operation calls it before
    /// the work it does ahead of its hash (a login's read of the account), so a flood of logins is refused without
    /// touching the database: the bound in <see cref="RunAsync{T}"/> is still the one that holds.
    /// </summary>
    public void RefuseIfFull()
    {
        if (Waiting >= MaxWaiting)
        {
            throw Refuse();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a dedicated thread once a slot is free (the wait can be cancelled, the work cannot).</summary>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Interlocked.Increment(ref _waiting) > MaxWaiting)
        {
            Interlocked.Decrement(ref _waiting);
            throw Refuse();
        }

        WaitingGauge.Add(1);
        try
        {
            await _slots.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            WaitingGauge.Add(-1);
        }

        try
        {
            // LongRunning: a new thread, outside the pool. Creating it costs microseconds against a hash's milliseconds.
            // ForceYielding: the request goes on on the pool, not on that thread (an await would otherwise continue
            // inline where the task completed, and the thread would live on for the rest of the request).
            return await Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                .ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }
        finally
        {
            _slots.Release();
        }
    }

    private static NodeBusyException Refuse()
    {
        Refused.Add(1);
        return new NodeBusyException("Too many sign-ins and password changes at once on this node; retry shortly", retryAfterSeconds: 1);
    }
}
