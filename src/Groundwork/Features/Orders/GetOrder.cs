using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Caching;

namespace Groundwork.Features.Orders;

public sealed record GetOrderRequest(Guid Id);

public sealed class GetOrder(EntityCache cache) : IOperation<GetOrderRequest, OrderDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.OrdersRead);

    public async Task<Result<OrderDto>> HandleAsync(GetOrderRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var order = await cache.GetOrderAsync(request.Id, cancellationToken);
        return order is null || !(caller.Is(order.UserId) || caller.IsAdmin) ? Error.NotFound("Order") : order;
    }
}
