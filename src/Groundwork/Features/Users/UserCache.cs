using Groundwork.Platform.Caching;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

/// <summary>Users in the entity cache (<c>gw:e:user:v1:{id}</c>); soft-deleted users are not found.</summary>
public static class UserCache
{
    /// <summary>The user list, for cached totals.</summary>
    public const string List = "users";

    public static readonly CacheKind<UserDto> Kind = new("user", 1, u => u.Version, (u, version) => u with { Version = (int)version });

    public static Task<UserDto?> GetUserAsync(this EntityCache cache, Guid id, CancellationToken cancellationToken) =>
        cache.GetAsync(Kind, id, LoadAsync, cancellationToken);

    private static async Task<UserDto?> LoadAsync(GroundworkDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken) is { } user ? UserDto.From(user) : null;
}
