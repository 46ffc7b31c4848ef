using System.Runtime.CompilerServices;
using Groundwork.Platform.Realtime;

namespace Groundwork.Tests.Events;

/// <summary>
/// The stream behind a GraphQL subscription takes an item from its source only when its gate lets it: an observer
/// cannot push back, so a busy subscriber's backlog must stay in the source, not pile up in memory.
/// </summary>
public sealed class ObservableStreamTests
{
    [Fact]
    public async Task An_item_is_taken_from_the_source_only_after_the_gate_lets_it()
    {
        var pulled = 0;
        var gateCalls = 0;
        var thirdWait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var room = new SemaphoreSlim(2);
        var seen = new List<int>();
        using var seenThree = new SemaphoreSlim(0);

        async IAsyncEnumerable<int> Source([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (var i = 0; i < 100; i++)
            {
                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
                Interlocked.Increment(ref pulled);
                yield return i;
            }
        }

        var stream = new ObservableStream<int>(Source, waitForRoom: async ct =>
        {
            if (Interlocked.Increment(ref gateCalls) == 3)
            {
                thirdWait.SetResult();
            }

            await room.WaitAsync(ct);
        });
        using (stream.Subscribe(new Recorder(item =>
        {
            lock (seen)
            {
                seen.Add(item);
            }

            if (item == 2)
            {
                seenThree.Release();
            }
        })))
        {
            // Two items went through; the third waits at the gate, not in the observer, and is still in the source.
            await thirdWait.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal(2, Volatile.Read(ref pulled));
            lock (seen)
            {
                Assert.Equal([0, 1], seen);
            }

            room.Release();
            Assert.True(await seenThree.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
            Assert.Equal(3, Volatile.Read(ref pulled));
        }
    }

    private sealed class Recorder(Action<int> next) : IObserver<int>
    {
        public void OnNext(int value) => next(value);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
