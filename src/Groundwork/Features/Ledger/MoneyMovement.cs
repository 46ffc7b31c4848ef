using Groundwork.Platform.Caching;
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
public sealed class MoneyMovement(GroundworkDbContext db, CacheWrites cache, TimeProvider clock)
{
    public async Task<Result<LedgerTransaction>> MoveAsync(
        TransactionType type, Account from, Account to, long amount, Guid? orderId, string? description, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (from.Currency != to.Currency)
        {
            // Without naming the other account's currency: the caller may not own it.
            return new Error(ErrorCode.CurrencyMismatch, "The two accounts hold different currencies");
        }

        if (amount is < 1 or > Money.MaxAmount)
        {
            return Error.Validation("amount", $"Must be 1 to {Money.MaxAmount} minor units");
        }

        // The rows and events are staged first (nothing is sent yet: they go in the pipeline's one SaveChanges
        // batch), so the work done while the UPDATEs below hold the account rows locked is as small as it can be.
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
            Outbox.Add(db, clock, "transfer.completed", transaction.Id, data, EventAudience.OwnersAndAdmins(from.OwnerId, to.OwnerId));
        }

        if (from.Kind == AccountKind.User)
        {
            Outbox.Add(db, clock, "account.debited", from.Id, new { accountId = from.Id, ownerId = from.OwnerId, amount, currency = from.Currency, transactionId = transaction.Id, type }, EventAudience.OwnersAndAdmins(from.OwnerId));
        }

        if (to.Kind == AccountKind.User)
        {
            Outbox.Add(db, clock, "account.credited", to.Id, new { accountId = to.Id, ownerId = to.OwnerId, amount, currency = to.Currency, transactionId = transaction.Id, type }, EventAudience.OwnersAndAdmins(to.OwnerId));
        }


        var legs = new[] { (Account: from, Delta: -amount), (Account: to, Delta: amount) }.OrderBy(l => l.Account.Id);
        foreach (var (account, delta) in legs)
        {
            var id = account.Id;
            // Lower bound 0 (only the external account may go below zero, down to -MaxBalance); upper bound
            // MaxBalance: checked under the row lock the UPDATE takes, so no balance can overdraw or overflow.
            var floor = account.Kind == AccountKind.External ? -Money.MaxBalance : 0;
            // RETURNING gives the balance and version as committed (the row stays locked until then) in the same
            // round trip, for the write-through below.
            var changed = await db.Database.SqlQuery<BalanceAfter>($"""
                UPDATE accounts SET balance = balance + {delta}, version = version + 1
                WHERE id = {id} AND balance + {delta} >= {floor} AND balance + {delta} <= {Money.MaxBalance}
                RETURNING balance AS "Balance", version AS "Version"
                """).ToListAsync(cancellationToken);
            if (changed.Count == 0)
            {
                return delta < 0
                    ? new Error(ErrorCode.InsufficientFunds, "The account balance is too low for this amount")
                    : Error.Validation("amount", $"The receiving account would exceed the maximum balance of {Money.MaxBalance} minor units");
            }

            var after = AccountDto.From(account) with { Balance = changed[0].Balance, Version = changed[0].Version };
            cache.Put(AccountCache.Kind, id, after);
        }

        return transaction;
    }
}

internal sealed record BalanceAfter(long Balance, int Version);
