using Groundwork.Platform.Caching;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

/// <summary>Accounts in the entity cache (<c>gw:e:account:v1:{id}</c>), balances included; every balance change writes through.</summary>
public static class AccountCache
{
    /// <summary>The account lists, for cached totals (only opening an account changes which rows they hold).</summary>
    public const string List = "accounts";

    // No node-local copies: a balance changes with every movement, so a copy would seldom outlive the next one, and
    // the 5 ms a write of a kind with copies waits before answering would sit on every transfer (ADR 0022).
    public static readonly CacheKind<AccountDto> Kind = new("account", 1, a => a.Version, (a, version) => a with { Version = (int)version }) { NodeCopies = false };

    public static Task<AccountDto?> GetAccountAsync(this EntityCache cache, Guid id, CancellationToken cancellationToken) =>
        cache.GetAsync(Kind, id, LoadAsync, cancellationToken);

    private static async Task<AccountDto?> LoadAsync(GroundworkDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken) is { } account ? AccountDto.From(account) : null;
}
