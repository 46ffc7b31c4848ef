using Groundwork.Platform.Caching;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

/// <summary>Accounts in the entity cache (<c>gw:e:account:v1:{id}</c>), balances included; every balance change writes through.</summary>
public static class AccountCache
{
    /// <summary>The account lists, for cached totals (only opening an account changes which rows they hold).</summary>
    public const string List = "accounts";

    public static readonly CacheKind<AccountDto> Kind = new("account", 1, a => a.Version, (a, version) => a with { Version = (int)version });

    public static Task<AccountDto?> GetAccountAsync(this EntityCache cache, Guid id, CancellationToken cancellationToken) =>
        cache.GetAsync(Kind, id, LoadAsync, cancellationToken);

    /// <summary>
    /// The user accounts among <paramref name="ids"/> for a money movement inside its transaction: from the cache
    /// where it has them (an account's owner, kind and currency never change), the rest with one query on the
    /// transaction's own connection. The balance and version of a cached account may be stale: a money movement
    /// changes the balance with a conditional UPDATE and never decides anything from the value read here.
    /// </summary>
    public static async Task<List<Account>> UserAccountsForMovementAsync(this EntityCache cache, GroundworkDbContext db, Guid[] ids, CancellationToken cancellationToken)
    {
        var cached = await Task.WhenAll(ids.Select(id => cache.PeekAsync(Kind, id)));
        // Only user accounts have an owner: the house and external accounts are made without one (SystemAccounts),
        // a user's accounts always with one (CreateAccount).
        var accounts = cached.OfType<AccountDto>().Where(a => a.OwnerId is not null).Select(a => new Account
        {
            Id = a.Id, OwnerId = a.OwnerId, Kind = AccountKind.User, Currency = a.Currency, CreatedAt = a.CreatedAt,
        }).ToList();
        var missing = ids.Where(id => cached.All(a => a?.Id != id)).ToList();
        if (missing.Count > 0)
        {
            accounts.AddRange(await db.Accounts.AsNoTracking()
                .Where(a => missing.Contains(a.Id) && a.Kind == AccountKind.User)
                .ToListAsync(cancellationToken));
        }

        return accounts;
    }

    private static async Task<AccountDto?> LoadAsync(GroundworkDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken) is { } account ? AccountDto.From(account) : null;
}
