using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Groundwork.Platform.Messaging;

/// <summary>Wakes this node's relay when a transaction that wrote events commits, so they leave at once instead of at the next poll.</summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Raise()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another commit raised it first: one wake-up covers both.
            }
        }
    }

    /// <summary>Waits for a signal or <paramref name="timeout"/>, whichever comes first.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

/// <summary>Raises <see cref="OutboxSignal"/> after a commit of a context that staged events (explicit transaction or SaveChanges' own).</summary>
internal sealed class OutboxCommitInterceptor(OutboxSignal signal) : IDbTransactionInterceptor, ISaveChangesInterceptor
{
    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        RaiseIfEvents(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => RaiseIfEvents(eventData.Context);

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context?.Database.CurrentTransaction is null)
        {
            RaiseIfEvents(eventData.Context);
        }

        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (eventData.Context?.Database.CurrentTransaction is null)
        {
            RaiseIfEvents(eventData.Context);
        }

        return result;
    }

    private void RaiseIfEvents(DbContext? context)
    {
        if (context is not null && context.ChangeTracker.Entries<OutboxMessage>().Any())
        {
            signal.Raise();
        }
    }
}
