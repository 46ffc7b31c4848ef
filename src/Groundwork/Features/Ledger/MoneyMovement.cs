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
public sealed class MoneyMovement(GroundworkDbContext db, CacheWrites cache, AccountFacts facts, AccountQueue queue, CommitHooks hooks, TimeProvider clock)
{
    /// <summary>The turn this request's transaction holds in the queue (ended once that transaction has).</summary>
    private AccountQueue.Turn? _turn;

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

        // This node's turn on both accounts, held until the transaction ends. A second movement in the same
        // transaction goes straight to the row locks: waiting in the queue while holding rows could make a cycle.
        if (_turn is null || _turn.Ended)
        {
            _turn = await queue.EnterAsync(from.Id, to.Id, cancellationToken);
            hooks.UntilTransactionEnds(_turn);
        }

        var legs = new[] { (Account: from, Delta: -amount), (Account: to, Delta: amount) }.OrderBy(l => l.Account.Id).ToArray();
        var after = await UpdateBalancesAsync(legs, cancellationToken);
        var written = new List<(Guid, AccountDto)>(legs.Length);
        for (var i = 0; i < legs.Length; i++)
        {
            var (account, delta) = legs[i];
            if (after[i] is not { } changed)
            {
                // The whole movement fails (the pipeline rolls the transaction back, the other leg included).
                return delta < 0
                    ? new Error(ErrorCode.InsufficientFunds, "The account balance is too low for this amount")
                    : Error.Validation("amount", $"The receiving account would exceed the maximum balance of {Money.MaxBalance} minor units");
            }

            // The row matched the owner, kind and currency it was given: the database has confirmed them.
            facts.Confirmed(account);
            written.Add((account.Id, AccountDto.From(account) with { Balance = changed.Balance, Version = changed.Version }));
        }

        cache.PutAll(AccountCache.Kind, written);

        return transaction;
    }

    /// <summary>
    /// Both conditional UPDATEs in one command, one round trip: the first row's lock is held for as short a time
    /// as possible. They run in the legs' (id) order, so concurrent movers queue instead of deadlocking. Lower bound
    /// 0 (only the external account may go below zero, down to -MaxBalance), upper bound MaxBalance: checked under
    /// the row lock each UPDATE takes, so no balance can overdraw or overflow. RETURNING gives each balance and
    /// version as they will be committed (the rows stay locked until then), for the write-through; null for a leg
    /// whose condition failed. Each UPDATE also requires the owner, kind and currency the caller was given.
    /// </summary>
    private async Task<BalanceAfter?[]> UpdateBalancesAsync((Account Account, long Delta)[] legs, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommandInTransaction("Money moves only inside the pipeline's transaction");
        var sql = new System.Text.StringBuilder();
        for (var i = 0; i < legs.Length; i++)
        {
            var (account, delta) = legs[i];
            sql.Append(System.Globalization.CultureInfo.InvariantCulture, $"""
                UPDATE accounts SET balance = balance + @delta{i}, version = version + 1
                WHERE id = @id{i} AND balance + @delta{i} >= @floor{i} AND balance + @delta{i} <= @max
                  AND owner_id IS NOT DISTINCT FROM @owner{i} AND kind = @kind{i} AND currency = @currency{i}
                RETURNING balance, version;

                """);
            command.AddParameter($"delta{i}", delta);
            command.AddParameter($"id{i}", account.Id);
            command.AddParameter($"floor{i}", account.Kind == AccountKind.External ? -Money.MaxBalance : 0L);
            // The caller's owner, kind and currency may come from this node's memory (AccountFacts, filled only from
            // the database): the row must agree all the same, so that no bug upstream can move money it should not.
            command.AddParameter($"owner{i}", (object?)account.OwnerId ?? DBNull.Value);
            command.AddParameter($"kind{i}", account.Kind.ToString().ToLowerInvariant());
            command.AddParameter($"currency{i}", account.Currency);
        }

        command.AddParameter("max", Money.MaxBalance);
        command.CommandText = sql.ToString();
        var after = new BalanceAfter?[legs.Length];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        for (var i = 0; i < legs.Length; i++)
        {
            if (i > 0 && !await reader.NextResultAsync(cancellationToken))
            {
                break;
            }

            if (await reader.ReadAsync(cancellationToken))
            {
                after[i] = new BalanceAfter(reader.GetInt64(0), reader.GetInt32(1));
            }
        }

        return after;
    }
}

internal sealed record BalanceAfter(long Balance, int Version);
