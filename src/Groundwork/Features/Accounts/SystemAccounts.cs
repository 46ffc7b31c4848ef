using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

/// <summary>The system's house and external account of a currency, created on first use.</summary>
public sealed class SystemAccounts(GroundworkDbContext db, TimeProvider clock)
{
    /// <summary>
    /// Runs on the caller's connection and transaction (a second connection would wait forever for SQLite's
    /// single writer). <c>ON CONFLICT DO NOTHING</c> makes two first uses racing each other both succeed: the
    /// loser waits for the winner's row and reads it.
    /// </summary>
    public async Task<Account> GetAsync(AccountKind kind, string currency, CancellationToken cancellationToken)
    {
        var existing = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Kind == kind && a.Currency == currency, cancellationToken);
        if (existing is not null)
        {
            return existing;
        }

        var id = Guid.CreateVersion7();
        var kindText = LowerCaseEnumColumn<AccountKind>.Of(kind);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO accounts (id, owner_id, kind, currency, balance, created_at) VALUES ({id}, NULL, {kindText}, {currency}, 0, {now}) ON CONFLICT DO NOTHING",
            cancellationToken);
        return await db.Accounts.AsNoTracking().FirstAsync(a => a.Kind == kind && a.Currency == currency, cancellationToken);
    }
}
