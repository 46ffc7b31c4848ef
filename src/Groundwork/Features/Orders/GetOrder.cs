using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Orders;

public sealed record GetOrderRequest(Guid Id);

public sealed class GetOrder(GroundworkDbContext db) : IOperation<GetOrderRequest, OrderDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.OrdersRead);

    public async Task<Result<OrderDto>> HandleAsync(GetOrderRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == request.Id, cancellationToken);
        return order is null || !(caller.Is(order.UserId) || caller.IsAdmin) ? Error.NotFound("Order") : OrderDto.From(order);
    }
}
