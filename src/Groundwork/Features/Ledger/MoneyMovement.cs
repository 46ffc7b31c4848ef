using Groundwork.Features.Accounts;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Ledger;

/// <summary>
/// The only code that changes balances. Must run inside the pipeline's transaction. Both accounts are updated
/// in a fixed order (by id), each with a conditional set-based UPDATE: the row lock taken by the first UPDATE
/// serializes concurrent movers of the same account, the condition re-checked under the lock makes overdraft
/// impossible, and the fixed order means two opposite transfers queue instead of deadlocking
/// (docs/adr/0006-race-free-money.md).
/// </summary>
public sealed class MoneyMovement(GroundworkDbContext db, TimeProvider clock)
{
    public async Task<Result<LedgerTransaction>> MoveAsync(
        TransactionType type, Account from, Account to, long amount, Guid? orderId, string? description, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (from.Currency != to.Currency)
        {
            return new Error(ErrorCode.CurrencyMismatch, $"Cannot move {from.Currency} into a {to.Currency} account");
        }

        var legs = new[] { (Account: from, Delta: -amount), (Account: to, Delta: amount) }.OrderBy(l => l.Account.Id);
        foreach (var (account, delta) in legs)
        {
            var id = account.Id;
            var changed = account.Kind == AccountKind.External || delta > 0
                ? await db.Accounts.Where(a => a.Id == id)
                    .ExecuteUpdateAsync(s => s.SetProperty(a => a.Balance, a => a.Balance + delta), cancellationToken)
                : await db.Accounts.Where(a => a.Id == id && a.Balance + delta >= 0)
                    .ExecuteUpdateAsync(s => s.SetProperty(a => a.Balance, a => a.Balance + delta), cancellationToken);
            if (changed == 0)
            {
                return new Error(ErrorCode.InsufficientFunds, "The account balance is too low for this amount");
            }
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var transaction = new LedgerTransaction
        {
            Type = type,
            Amount = amount,
            Currency = from.Currency,
            FromAccountId = from.Id,
            ToAccountId = to.Id,
            OrderId = orderId,
            Description = description,
            CreatedAt = now,
        };
        db.LedgerTransactions.Add(transaction);
        db.LedgerEntries.Add(new LedgerEntry { TransactionId = transaction.Id, AccountId = from.Id, Amount = -amount, CreatedAt = now });
        db.LedgerEntries.Add(new LedgerEntry { TransactionId = transaction.Id, AccountId = to.Id, Amount = amount, CreatedAt = now });

        var data = TransactionDto.From(transaction);
        if (type == TransactionType.Transfer)
        {
            Outbox.Add(db, clock, "transfer.completed", transaction.Id, data);
        }

        if (from.Kind == AccountKind.User)
        {
            Outbox.Add(db, clock, "account.debited", from.Id, new { accountId = from.Id, ownerId = from.OwnerId, amount, currency = from.Currency, transactionId = transaction.Id, type });
        }

        if (to.Kind == AccountKind.User)
        {
            Outbox.Add(db, clock, "account.credited", to.Id, new { accountId = to.Id, ownerId = to.OwnerId, amount, currency = to.Currency, transactionId = transaction.Id, type });
        }

        return transaction;
    }
}
