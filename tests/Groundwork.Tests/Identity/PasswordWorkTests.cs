using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Identity;

/// <summary>Where bcrypt runs (ADR 0025): off the thread pool, at most one hash per slot at a time, the rest waiting without a thread.</summary>
public sealed class PasswordWorkTests
{
    [Fact]
    public async Task Hashes_run_on_threads_of_their_own_at_most_one_per_slot_and_the_rest_wait()
    {
        var work = new PasswordWork(slots: 2);
        using var release = new ManualResetEventSlim();
        var running = 0;
        var most = 0;
        var onPool = 0;

        var hashes = Enumerable.Range(0, 6).Select(_ => work.RunAsync(() =>
        {
            if (Thread.CurrentThread.IsThreadPoolThread)
            {
                Interlocked.Increment(ref onPool);
            }

            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            release.Wait(Eventually.Patience);
            Interlocked.Decrement(ref running);
            return now;
        }, CancellationToken.None)).ToList();

        // Two run and block; the other four wait for a slot, holding no thread.
        await Eventually.HoldsAsync(() => Volatile.Read(ref running) == 2 && work.Waiting == 4);
        Assert.Equal(2, Volatile.Read(ref running));
        Assert.Equal(4, work.Waiting);

        release.Set();
        await Task.WhenAll(hashes).WaitAsync(Eventually.Patience);
        Assert.Equal(2, most);
        Assert.Equal(0, onPool);
        Assert.Equal(0, work.Waiting);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_queue_and_frees_no_slot_it_never_had()
    {
        var work = new PasswordWork(slots: 1);
        using var release = new ManualResetEventSlim();
        var first = work.RunAsync(() => release.Wait(Eventually.Patience), CancellationToken.None);
        await Eventually.HoldsAsync(() => work.Waiting == 0 && !first.IsCompleted);

        using var cancel = new CancellationTokenSource();
        var ran = false;
        var second = work.RunAsync(() => ran = true, cancel.Token);
        await Eventually.HoldsAsync(() => work.Waiting == 1);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        Assert.Equal(0, work.Waiting);
        Assert.False(ran);

        // The slot is still the first hash's: a third waits until it is done, then runs.
        var third = work.RunAsync(() => 42, CancellationToken.None);
        await Eventually.HoldsAsync(() => work.Waiting == 1);
        release.Set();
        Assert.True(await first.WaitAsync(Eventually.Patience));
        Assert.Equal(42, await third.WaitAsync(Eventually.Patience));
    }

    [Fact]
    public async Task Past_the_waiting_bound_a_hash_is_refused_at_once_and_the_queue_is_unchanged()
    {
        var work = new PasswordWork(slots: 1, waitingPerSlot: 2);
        using var release = new ManualResetEventSlim();
        var running = work.RunAsync(() => release.Wait(Eventually.Patience), CancellationToken.None);
        await Eventually.HoldsAsync(() => work.Waiting == 0 && !running.IsCompleted);
        work.RefuseIfFull(); // room to wait: no refusal
        var waiting = Enumerable.Range(0, 2).Select(i => work.RunAsync(() => i, CancellationToken.None)).ToList();
        await Eventually.HoldsAsync(() => work.Waiting == 2);

        // The early check (before an operation's reads) refuses as the queue itself would.
        Assert.Throws<Groundwork.Platform.Operations.NodeBusyException>(work.RefuseIfFull);

        // The refusal is counted for operators (other tests may refuse at the same time: at least this one).
        long counted = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "groundwork.auth.hashing_refused")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();

        var ran = false;
        var refused = await Assert.ThrowsAsync<Groundwork.Platform.Operations.NodeBusyException>(() => work.RunAsync(() => ran = true, CancellationToken.None));

        Assert.True(Interlocked.Read(ref counted) >= 1);
        Assert.Equal(1, refused.RetryAfterSeconds);
        Assert.False(ran);
        Assert.Equal(2, work.MaxWaiting);
        Assert.Equal(2, work.Waiting);
        release.Set();
        var results = await Task.WhenAll(waiting).WaitAsync(Eventually.Patience);
        Assert.Equal(new[] { 0, 1 }, results);
        Assert.True(await running.WaitAsync(Eventually.Patience));
    }

    [Fact]
    public async Task The_caller_goes_on_on_the_thread_pool_not_on_the_hashing_thread()
    {
        var work = new PasswordWork(slots: 1);
        var (hashedOnPool, afterOnPool) = await Task.Run(async () =>
        {
            var onPool = await work.RunAsync(() => Thread.CurrentThread.IsThreadPoolThread, CancellationToken.None);
            return (onPool, Thread.CurrentThread.IsThreadPoolThread);
        });

        Assert.False(hashedOnPool);
        Assert.True(afterOnPool);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var actual && actual != seen)
        {
            seen = actual;
        }
    }
}
