using Groundwork.Platform.Caching;
using Groundwork.Features.Accounts;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using System.Globalization;
using System.Text;

namespace Groundwork.Features.Ledger;

/// <summary>
/// The only code that changes balances. Must run inside the pipeline's transaction. A movement is checked and
/// staged when the operation asks for it, and written at the transaction's commit point, as its last write
/// (<see cref="CommitHooks.BeforeCommit"/>): both accounts are updated in a fixed order (by id), each with a
/// conditional set-based UPDATE, and the ledger rows and events follow in the same command, so the account rows
/// stay locked for two round trips (that command, then COMMIT) however much else the operation wrote before (a
/// second movement in the same transaction adds its command to the first one's hold). The row
/// lock taken by the first UPDATE serializes concurrent movers of the same account, the condition re-checked under
/// the lock makes overdraft impossible, and the fixed order means two opposite transfers queue instead of
/// deadlocking (docs/adr/0006-race-free-money.md, docs/adr/0020-money-moves-at-the-commit.md).
/// </summary>
public sealed class MoneyMovement(GroundworkDbContext db, CacheWrites cache, AccountFacts facts, AccountQueue queue, CommitHooks hooks, TimeProvider clock)
{
    /// <summary>The turn this request's transaction holds in the queue (ended once that transaction has).</summary>
    private AccountQueue.Turn? _turn;

    /// <summary>
    /// Checks and stages a movement of <paramref name="amount"/> from <paramref name="from"/> to <paramref name="to"/>.
    /// Success means staged: the balances change when the operation's transaction reaches its commit, and if an
    /// account cannot take the movement then (too low a balance, or over the maximum), the pipeline rolls the whole
    /// operation back and answers with that error instead of the operation's result.
    /// </summary>
    public Result<LedgerTransaction> Move(
        TransactionType type, Account from, Account to, long amount, Guid? orderId, string? description)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        // Staged outside the pipeline's transaction, the movement would never be written, or be written by whichever
        // transaction of the scope commits next.
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Money moves only inside the pipeline's transaction");
        }

        if (from.Currency != to.Currency)
        {
            // Without naming the other account's currency: the caller may not own it.
            return new Error(ErrorCode.CurrencyMismatch, "The two accounts hold different currencies");
        }

        if (amount is < 1 or > Money.MaxAmount)
        {
            return Error.Validation("amount", $"Must be 1 to {Money.MaxAmount} minor units");
        }

        // The rows and events are made now; the command is built at the commit point, where the pipeline's riders
        // (the idempotency response) exist.
        var transaction = new LedgerTransaction
        {
            Type = type,
            Amount = amount,
            Currency = from.Currency,
            FromAccountId = from.Id,
            ToAccountId = to.Id,
            OrderId = orderId,
            Description = description,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        var events = new List<OutboxMessage>(3);
        if (type == TransactionType.Transfer)
        {
            events.Add(Outbox.Create(clock, "transfer.completed", transaction.Id, TransactionDto.From(transaction), EventAudience.OwnersAndAdmins(from.OwnerId, to.OwnerId)));
        }

        if (from.Kind == AccountKind.User)
        {
            events.Add(Outbox.Create(clock, "account.debited", from.Id, new { accountId = from.Id, ownerId = from.OwnerId, amount, currency = from.Currency, transactionId = transaction.Id, type }, EventAudience.OwnersAndAdmins(from.OwnerId)));
        }

        if (to.Kind == AccountKind.User)
        {
            events.Add(Outbox.Create(clock, "account.credited", to.Id, new { accountId = to.Id, ownerId = to.OwnerId, amount, currency = to.Currency, transactionId = transaction.Id, type }, EventAudience.OwnersAndAdmins(to.OwnerId)));
        }

        var legs = Legs(from, to, amount);
        // The balances are written through once committed (WriteAsync); the keys go in the repair record now.
        cache.Declare(AccountCache.Kind, from.Id);
        cache.Declare(AccountCache.Kind, to.Id);
        hooks.BeforeCommit(cancellationToken => WriteAsync(transaction, legs, events, cancellationToken));
        return transaction;
    }

    /// <summary>
    /// The two balance changes in the order their UPDATEs run: by account id, whichever is debited, so that two
    /// movements between the same accounts lock them in the same order (no deadlock).
    /// </summary>
    internal static (Account Account, long Delta)[] Legs(Account from, Account to, long amount) =>
        [.. new[] { (Account: from, Delta: -amount), (Account: to, Delta: amount) }.OrderBy(l => l.Account.Id)];

    /// <summary>The commit point: this node's turn on both accounts, then one command with every write of the movement.</summary>
    private async Task<Error?> WriteAsync(LedgerTransaction transaction, (Account Account, long Delta)[] legs, List<OutboxMessage> events, CancellationToken cancellationToken)
    {
        // Built before the turn: whoever waits for these accounts should not also wait for our string building.
        await using var command = UpdateBalancesAndRecord(transaction, legs, events);

        // This node's turn on both accounts, held until the transaction ends. A second movement in the same
        // transaction goes straight to the row locks: waiting in the queue while holding rows could make a cycle.
        if (_turn is null || _turn.Ended)
        {
            _turn = await queue.EnterAsync(legs[0].Account.Id, legs[1].Account.Id, cancellationToken);
            hooks.UntilTransactionEnds(_turn);
        }

        var after = await ExecuteAsync(command, legs.Length, cancellationToken);
        var written = new List<(Guid, AccountDto)>(legs.Length);
        for (var i = 0; i < legs.Length; i++)
        {
            var (account, delta) = legs[i];
            if (after[i] is not { } changed)
            {
                // The whole operation fails (the pipeline rolls the transaction back, the other leg included).
                return delta < 0
                    ? new Error(ErrorCode.InsufficientFunds, "The account balance is too low for this amount")
                    : Error.Validation("amount", $"The receiving account would exceed the maximum balance of {Money.MaxBalance} minor units");
            }

            // The row matched the owner, kind and currency it was given: the database has confirmed them.
            facts.Confirmed(account);
            written.Add((account.Id, AccountDto.From(account) with { Balance = changed.Balance, Version = changed.Version }));
        }

        cache.PutAll(AccountCache.Kind, written);
        return null;
    }

    /// <summary>
    /// One command, one round trip: both conditional UPDATEs first, in the legs' (id) order, so concurrent movers
    /// queue instead of deadlocking; then the ledger transaction, its two entries and its events, written while
    /// the rows are locked, so an account's entries and events are in the order of its balance changes. Lower
    /// bound 0 (only the external account may go below zero, down to -MaxBalance), upper bound MaxBalance:
    /// checked under the row lock each UPDATE takes, so no balance can overdraw or overflow. Each UPDATE also
    /// requires the owner, kind and currency the caller was given. RETURNING gives each balance and version as
    /// they will be committed (the rows stay locked until then), for the write-through; null for a leg whose
    /// condition failed (the inserts then run all the same, and the rollback takes them back).
    /// </summary>
    private DbCommand UpdateBalancesAndRecord(LedgerTransaction transaction, (Account Account, long Delta)[] legs, List<OutboxMessage> events)
    {
        var command = db.CreateCommandInTransaction("Money moves only inside the pipeline's transaction");
        // About 3,000 characters with three events and the idempotency response.
        var sql = new StringBuilder(4_096);
        for (var i = 0; i < legs.Length; i++)
        {
            var (account, delta) = legs[i];
            var leg = LegStatements[i];
            sql.Append(leg.Sql);
            command.AddParameter(leg.Delta, delta);
            command.AddParameter(leg.Id, account.Id);
            command.AddParameter(leg.Floor, account.Kind == AccountKind.External ? -Money.MaxBalance : 0L);
            // The caller's owner, kind and currency may come from this node's memory (AccountFacts, filled only from
            // the database): the row must agree all the same, so that no bug upstream can move money it should not.
            command.AddParameter(leg.Owner, (object?)account.OwnerId ?? DBNull.Value);
            command.AddParameter(leg.Kind, LowerCaseEnumColumn<AccountKind>.Of(account.Kind));
            command.AddParameter(leg.Currency, account.Currency);
        }

        command.AddParameter("max", Money.MaxBalance);
        sql.Append("""
            INSERT INTO ledger_transactions (id, type, amount, currency, from_account_id, to_account_id, order_id, description, created_at)
            VALUES (@tx, @type, @amount, @currency, @from, @to, @order, @description, @at);
            INSERT INTO ledger_entries (transaction_id, account_id, amount, created_at) VALUES (@tx, @from, @debit, @at);
            INSERT INTO ledger_entries (transaction_id, account_id, amount, created_at) VALUES (@tx, @to, @amount, @at);

            """);
        command.AddParameter("tx", transaction.Id);
        command.AddParameter("type", LowerCaseEnumColumn<TransactionType>.Of(transaction.Type));
        command.AddParameter("amount", transaction.Amount);
        command.AddParameter("debit", -transaction.Amount);
        command.AddParameter("currency", transaction.Currency);
        command.AddParameter("from", transaction.FromAccountId);
        command.AddParameter("to", transaction.ToAccountId);
        command.AddParameter("order", (object?)transaction.OrderId ?? DBNull.Value);
        command.AddParameter("description", (object?)transaction.Description ?? DBNull.Value);
        command.AddParameter("at", transaction.CreatedAt);
        for (var i = 0; i < events.Count; i++)
        {
            Outbox.AppendInsert(db, command, sql, events[i], i);
        }

        // What else rides with the transaction's last write (the idempotency record's response): after the UPDATEs,
        // whose results are read first.
        hooks.AppendRiders(command, sql);
        command.CommandText = sql.ToString();
        return command;
    }

    /// <summary>Each leg's UPDATE and parameter names, made once: the command is built for every movement.</summary>
    private static readonly LegStatement[] LegStatements = [new(0), new(1)];

    private sealed class LegStatement(int i)
    {
        public string Sql { get; } = string.Create(CultureInfo.InvariantCulture, $"""
            UPDATE accounts SET balance = balance + @delta{i}, version = version + 1
            WHERE id = @id{i} AND balance + @delta{i} >= @floor{i} AND balance + @delta{i} <= @max
              AND owner_id IS NOT DISTINCT FROM @owner{i} AND kind = @kind{i} AND currency = @currency{i}
            RETURNING balance, version;

            """);

        public string Delta { get; } = Name("delta", i);
        public string Id { get; } = Name("id", i);
        public string Floor { get; } = Name("floor", i);
        public string Owner { get; } = Name("owner", i);
        public string Kind { get; } = Name("kind", i);
        public string Currency { get; } = Name("currency", i);

        private static string Name(string name, int i) => string.Create(CultureInfo.InvariantCulture, $"{name}{i}");
    }

    /// <summary>Runs the command; each leg's balance and version after its UPDATE, or null where its condition failed.</summary>
    private static async Task<BalanceAfter?[]> ExecuteAsync(DbCommand command, int legs, CancellationToken cancellationToken)
    {
        var after = new BalanceAfter?[legs];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        for (var i = 0; i < legs; i++)
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

        // The inserts have no results: stepping past the end makes every provider run them (SQLite runs a statement
        // only when the reader reaches it) and surfaces their errors here.
        while (await reader.NextResultAsync(cancellationToken))
        {
        }

        return after;
    }
}

internal sealed record BalanceAfter(long Balance, int Version);
