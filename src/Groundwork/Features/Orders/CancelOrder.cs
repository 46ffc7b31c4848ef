using Groundwork.Platform.Caching;
using Groundwork.Features.Accounts;
using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Orders;

public sealed record CancelOrderRequest(Guid OrderId);

/// <summary>Pending → cancelled; paid → refunded, with the money back on the paying account in the same transaction.</summary>
public sealed class CancelOrder(GroundworkDbContext db, SystemAccounts system, MoneyMovement money, CacheWrites cache, TimeProvider clock)
    : IOperation<CancelOrderRequest, OrderDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.OrdersWrite);

    public Execution Execution => Execution.WriteWithOptionalKey("orders.cancel");

    public async Task<Result<OrderDto>> HandleAsync(CancelOrderRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == request.OrderId, cancellationToken);
        if (order is null || !(caller.Is(order.UserId) || caller.IsAdmin))
        {
            return Error.NotFound("Order");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var (from, to) = order.Status switch
        {
            OrderStatus.Pending => (OrderStatus.Pending, OrderStatus.Cancelled),
            OrderStatus.Paid => (OrderStatus.Paid, OrderStatus.Refunded),
            _ => (order.Status, order.Status),
        };
        if (from == to)
        {
            return Error.Conflict($"The order is already {order.Status.ToString().ToLowerInvariant()}");
        }

        var changed = await db.Orders.Where(o => o.Id == order.Id && o.Status == from)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, to).SetProperty(o => o.UpdatedAt, now)
                .SetProperty(o => o.Version, o => o.Version + 1), cancellationToken);
        if (changed == 0)
        {
            return Error.Conflict("The order changed state concurrently; reload it", ConflictKind.Concurrency);
        }

        if (to == OrderStatus.Refunded && order.Total > 0)
        {
            var house = await system.GetAsync(AccountKind.House, order.Currency, cancellationToken);
            var payer = await db.Accounts.AsNoTracking().FirstAsync(a => a.Id == order.PaidFromAccountId, cancellationToken);
            var moved = money.Move(TransactionType.Refund, house, payer, order.Total, order.Id, $"Refund for order {order.Id}");
            if (!moved.IsSuccess)
            {
                return moved.Error;
            }
        }

        var updated = await db.Orders.AsNoTracking().FirstAsync(o => o.Id == order.Id, cancellationToken);
        var dto = OrderDto.From(updated);
        cache.Put(OrderCache.Kind, order.Id, dto);
        cache.ListChanged(OrderCache.ListOf(order.UserId));
        Outbox.Add(db, clock, to == OrderStatus.Refunded ? "order.refunded" : "order.cancelled", order.Id, dto, EventAudience.OwnersAndAdmins(order.UserId));
        return dto;
    }
}
