using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Features.Accounts;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Ledger;

public sealed record VerifyLedgerRequest;

public sealed record LedgerViolation(string Kind, string Subject, long Expected, long Actual);

public sealed record LedgerReport(bool Ok, int CheckedAccounts, int CheckedTransactions, IReadOnlyList<LedgerViolation> Violations);

/// <summary>
/// Checks the ledger invariants with set-based queries: every transaction has two entries summing to zero,
/// every balance equals the sum of its entries, and each currency's balances sum to zero.
/// </summary>
public sealed class VerifyLedger(GroundworkDbContext db) : IOperation<VerifyLedgerRequest, LedgerReport>
{
    private const int MaxReported = 100;

    public Policy Policy => Policy.InRole(Scopes.AccountsRead, Role.Admin);

    /// <summary>One snapshot for all checks, so concurrent transfers cannot show up as violations.</summary>
    public Execution Execution => Execution.SnapshotRead;

    public async Task<Result<LedgerReport>> HandleAsync(VerifyLedgerRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var violations = new List<LedgerViolation>();

        var unbalanced = await db.LedgerEntries.GroupBy(e => e.TransactionId)
            .Select(g => new { g.Key, Sum = g.Sum(e => e.Amount), Count = g.Count() })
            .Where(g => g.Sum != 0 || g.Count != 2)
            .Take(MaxReported)
            .ToListAsync(cancellationToken);
        violations.AddRange(unbalanced.Select(u => u.Sum != 0
            ? new LedgerViolation("transaction-unbalanced", u.Key.ToString(), 0, u.Sum)
            : new LedgerViolation("transaction-entry-count", u.Key.ToString(), 2, u.Count)));

        var orphans = await db.LedgerTransactions.Where(t => !db.Set<LedgerEntry>().Any(e => e.TransactionId == t.Id))
            .Select(t => t.Id).Take(MaxReported).ToListAsync(cancellationToken);
        violations.AddRange(orphans.Select(id => new LedgerViolation("transaction-entry-count", id.ToString(), 2, 0)));

        var drifted = await db.Accounts
            .Select(a => new { a.Id, a.Balance, Entries = db.Set<LedgerEntry>().Where(e => e.AccountId == a.Id).Sum(e => (long?)e.Amount) ?? 0 })
            .Where(a => a.Balance != a.Entries)
            .Take(MaxReported)
            .ToListAsync(cancellationToken);
        violations.AddRange(drifted.Select(d => new LedgerViolation("account-balance-mismatch", d.Id.ToString(), d.Entries, d.Balance)));

        var currencies = await db.Accounts.GroupBy(a => a.Currency)
            .Select(g => new { Currency = g.Key, Sum = g.Sum(a => a.Balance) })
            .Where(g => g.Sum != 0)
            .ToListAsync(cancellationToken);
        violations.AddRange(currencies.Select(c => new LedgerViolation("currency-not-zero", c.Currency, 0, c.Sum)));

        var accounts = await db.Accounts.CountAsync(cancellationToken);
        var transactions = await db.LedgerTransactions.CountAsync(cancellationToken);
        return new LedgerReport(violations.Count == 0, accounts, transactions, violations);
    }
}
