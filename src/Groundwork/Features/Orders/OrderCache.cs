using Groundwork.Platform.Caching;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Orders;

/// <summary>Orders in the entity cache (<c>gw:e:order:v1:{id}</c>); every status change writes through.</summary>
public static class OrderCache
{
    /// <summary>One user's orders, for cached totals (each user's list changes on its own).</summary>
    public static string ListOf(Guid userId) => $"orders:{userId:N}";

    public static readonly CacheKind<OrderDto> Kind = new("order", 1, o => o.Version, (o, version) => o with { Version = (int)version });

    public static Task<OrderDto?> GetOrderAsync(this EntityCache cache, Guid id, CancellationToken cancellationToken) =>
        cache.GetAsync(Kind, id, LoadAsync, cancellationToken);

    private static async Task<OrderDto?> LoadAsync(GroundworkDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, cancellationToken) is { } order ? OrderDto.From(order) : null;
}
