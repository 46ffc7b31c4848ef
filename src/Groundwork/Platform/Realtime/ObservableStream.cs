namespace Groundwork.Platform.Realtime;

/// <summary>
/// An <see cref="IAsyncEnumerable{T}"/> as the <see cref="IObservable{T}"/> GraphQL.NET subscriptions consume:
/// each subscriber enumerates on its own task, one item at a time (so order is kept), until it unsubscribes or
/// the source ends; <paramref name="ended"/> runs once either way (it returns the stream's slot).
/// <paramref name="waitForRoom"/>, when given, is awaited before each item is read from the source: an observer
/// cannot push back (<see cref="IObserver{T}.OnNext"/> returns at once, and GraphQL.NET starts resolving the item
/// there), so this is where a subscriber that is still busy leaves the next item in the source.
/// </summary>
public sealed class ObservableStream<T>(
    Func<CancellationToken, IAsyncEnumerable<T>> source, Action? ended = null, Func<CancellationToken, Task>? waitForRoom = null) : IObservable<T>
{
    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var stop = new CancellationTokenSource();
        var token = stop.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                await using var items = source(token).GetAsyncEnumerator(token);
                while (true)
                {
                    if (waitForRoom is not null)
                    {
                        await waitForRoom(token);
                    }

                    if (!await items.MoveNextAsync())
                    {
                        break;
                    }

                    observer.OnNext(items.Current);
                }

                observer.OnCompleted();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Unsubscribed: nobody is listening for a completion.
            }
            catch (Exception e)
            {
                observer.OnError(e);
            }
            finally
            {
                ended?.Invoke();
                stop.Dispose();
            }
        }, CancellationToken.None);
        return new Unsubscriber(stop);
    }

    private sealed class Unsubscriber(CancellationTokenSource stop) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                try
                {
                    stop.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The stream had already ended.
                }
            }
        }
    }
}
