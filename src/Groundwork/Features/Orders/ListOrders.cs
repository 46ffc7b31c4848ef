using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Orders;

/// <param name="UserId">Whose orders; absent means the caller's.</param>
public sealed record ListOrdersRequest(Guid? UserId, PageRequest Page, OrderStatus? Status = null);

public sealed class ListOrdersValidator : AbstractValidator<ListOrdersRequest>
{
    public ListOrdersValidator() => RuleFor(r => r.Page).ValidPage(ListOrders.SortFields);
}

public sealed class ListOrders(GroundworkDbContext db, EntityCache cache) : IOperation<ListOrdersRequest, PagedList<OrderDto>>
{
    public static readonly IReadOnlyList<string> SortFields = ["createdAt", "total"];

    public Policy Policy => Policy.Authenticated(Scopes.OrdersRead);

    public async Task<Result<PagedList<OrderDto>>> HandleAsync(ListOrdersRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var userId = request.UserId ?? caller.UserId ?? Guid.Empty;
        if (!caller.Is(userId) && !caller.IsAdmin)
        {
            return caller.IsStaff ? Error.Forbidden("Only admins may see other users' orders") : Error.NotFound("User");
        }

        var query = db.Orders.AsNoTracking().Where(o => o.UserId == userId);
        if (request.Status is { } status)
        {
            query = query.Where(o => o.Status == status);
        }

        var page = request.Page;
        var desc = page.Order == SortOrder.Desc;
        query = PageRules.CanonicalSort(page.Sort, SortFields) == "total"
            ? desc ? query.OrderByDescending(o => o.Total).ThenByDescending(o => o.Id) : query.OrderBy(o => o.Total).ThenBy(o => o.Id)
            : desc ? query.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id) : query.OrderBy(o => o.CreatedAt).ThenBy(o => o.Id);
        var total = await query.TotalAsync(request.Page, cache, OrderCache.ListOf(userId), $"{request.Status}", cancellationToken);
        var orders = await query.Skip(page.Skip).Take(page.Limit).ToListAsync(cancellationToken);
        return new PagedList<OrderDto>(orders.Select(OrderDto.From).ToList(), page.Page, page.Limit, total);
    }
}
