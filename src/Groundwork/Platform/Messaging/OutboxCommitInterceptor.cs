using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// Raises <see cref="OutboxSignal"/> after a commit of a context that added events (an explicit transaction, or
/// SaveChanges' own). Updates to outbox rows (the relay's own numbering) do not count, or the relay would wake itself.
/// </summary>
internal sealed class OutboxCommitInterceptor(OutboxSignal signal) : IDbTransactionInterceptor, ISaveChangesInterceptor
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DbContext, object> Staged = [];

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        RaiseIfStaged(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => RaiseIfStaged(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        SavedChanges(eventData, result);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (eventData.Context?.Database.CurrentTransaction is null)
        {
            RaiseIfStaged(eventData.Context);
        }

        return result;
    }

    /// <summary>
    /// <paramref name="context"/> has staged an event (<see cref="Outbox.Add"/>). Noted when it is staged rather than
    /// found at SaveChanges: looking through the change tracker would run a second DetectChanges on every save. An
    /// event staged and then discarded (a failed attempt) at worst wakes the relay for nothing.
    /// </summary>
    internal static void Note(DbContext context) => Staged.AddOrUpdate(context, true);

    private static void Forget(DbContext? context)
    {
        if (context is not null)
        {
            Staged.Remove(context);
        }
    }

    private void RaiseIfStaged(DbContext? context)
    {
        if (context is not null && Staged.Remove(context))
        {
            signal.Raise();
        }
    }
}
