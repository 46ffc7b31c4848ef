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

    // Only the columns the DTO shows: the password hash never leaves the database on this path.
    private static Task<UserDto?> LoadAsync(GroundworkDbContext db, Guid id, CancellationToken cancellationToken) =>
        db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(UserDto.Projection)
            .FirstOrDefaultAsync(cancellationToken);
}
