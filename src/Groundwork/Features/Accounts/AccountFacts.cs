using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Groundwork.Features.Accounts;

/// <summary>
/// What never changes about an account (its owner, kind, currency and creation time), remembered in this process
/// once the database has confirmed it, so a transfer reads nothing, neither Redis nor the database, for an account
/// this node has moved money on before (other movements still load their accounts with the rows they change).
/// Nothing here can go stale: accounts are never deleted and these columns are never updated. Only the database
/// confirms an entry (a load, or a balance UPDATE that required these values, see <c>MoneyMovement</c>); never the
/// shared cache, whose entries anyone able to write to Redis could forge. Bounded; entries unused for an hour leave.
/// </summary>
public sealed class AccountFacts : IDisposable
{
    private const int MaxEntries = 100_000;
    private static readonly TimeSpan Unused = TimeSpan.FromHours(1);

    private static readonly MemoryCacheEntryOptions EntryOptions = new() { Size = 1, SlidingExpiration = Unused };

    private readonly MemoryCache _facts = new(new MemoryCacheOptions { SizeLimit = MaxEntries });

    private sealed record Facts(Guid? OwnerId, AccountKind Kind, string Currency, DateTime CreatedAt);

    /// <summary>
    /// The database has just confirmed these facts of <paramref name="account"/>: call it only with an account read
    /// from the database, or one whose owner, kind and currency a statement has just matched and whose creation time
    /// came from the database too (never with one taken from a cache).
    /// </summary>
    internal void Confirmed(Account account)
    {
        ArgumentNullException.ThrowIfNull(account);
        // Every movement confirms its accounts again; facts never change, so one already remembered stays as it is.
        if (!_facts.TryGetValue(account.Id, out _))
        {
            _facts.Set(account.Id, new Facts(account.OwnerId, account.Kind, account.Currency, account.CreatedAt), EntryOptions);
        }
    }

    /// <summary>
    /// The user accounts among <paramref name="ids"/>, for a money movement inside its transaction: remembered
    /// ones from memory, the rest with one query on the transaction's own connection (a second pooled connection
    /// could run the pool dry under concurrent misses). The balance is not part of it: a movement changes the
    /// balance with a conditional UPDATE and decides nothing from a value read before.
    /// </summary>
    public async Task<List<Account>> UserAccountsAsync(GroundworkDbContext db, Guid[] ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(ids);
        var accounts = new List<Account>(ids.Length);
        List<Guid>? missing = null;
        foreach (var id in ids)
        {
            if (_facts.TryGetValue(id, out Facts? facts))
            {
                if (facts!.Kind == AccountKind.User)
                {
                    accounts.Add(new Account { Id = id, OwnerId = facts.OwnerId, Kind = facts.Kind, Currency = facts.Currency, CreatedAt = facts.CreatedAt });
                }
            }
            else
            {
                (missing ??= []).Add(id);
            }
        }

        if (missing is not null)
        {
            foreach (var account in await db.Accounts.AsNoTracking().Where(a => missing.Contains(a.Id)).ToListAsync(cancellationToken))
            {
                Confirmed(account);
                if (account.Kind == AccountKind.User)
                {
                    accounts.Add(account);
                }
            }
        }

        return accounts;
    }

    public void Dispose() => _facts.Dispose();
}
