using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

/// <summary>The system's house and external account of a currency, created on first use.</summary>
public sealed class SystemAccounts(IServiceScopeFactory scopes, TimeProvider clock)
{
    /// <summary>
    /// Creates the account in its own short transaction (outside the caller's), so two first uses racing each
    /// other resolve on the unique index instead of failing a money movement.
    /// </summary>
    public async Task<Guid> GetIdAsync(AccountKind kind, string currency, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var id = await db.Accounts.Where(a => a.Kind == kind && a.Currency == currency).Select(a => (Guid?)a.Id).FirstOrDefaultAsync(cancellationToken);
            if (id is { } found)
            {
                return found;
            }

            var account = new Account { Kind = kind, Currency = currency, CreatedAt = clock.GetUtcNow().UtcDateTime };
            db.Accounts.Add(account);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return account.Id;
            }
            catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
            {
                db.ChangeTracker.Clear();
            }
        }

        throw new InvalidOperationException($"Could not create the {kind} account for {currency}");
    }
}
