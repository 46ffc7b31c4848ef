using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Features.Accounts;
using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Orders;

public sealed record PayOrderRequest(Guid OrderId, Guid AccountId);

/// <summary>
/// The owner pays a pending order from one of their accounts: the total moves to the house account and the
/// order becomes paid in the same transaction.
/// </summary>
public sealed class PayOrder(GroundworkDbContext db, SystemAccounts system, MoneyMovement money, CacheWrites cache, TimeProvider clock)
    : IOperation<PayOrderRequest, OrderDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.OrdersWrite);

    public Execution Execution => Execution.WriteWithRequiredKey("orders.pay");

    public async Task<Result<OrderDto>> HandleAsync(PayOrderRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var order = await db.Orders.FirstOrDefaultAsync(o => o.Id == request.OrderId, cancellationToken);
        if (order is null || !(caller.Is(order.UserId) || caller.IsAdmin))
        {
            return Error.NotFound("Order");
        }

        if (!caller.Is(order.UserId))
        {
            return Error.Forbidden("Only the buyer may pay an order");
        }

        if (order.Status != OrderStatus.Pending)
        {
            return Error.Conflict($"The order is {order.Status.ToString().ToLowerInvariant()}, not pending");
        }

        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.AccountId && a.Kind == AccountKind.User, cancellationToken);
        if (account is null || !caller.Is(account.OwnerId!.Value))
        {
            return new Error(ErrorCode.NotFound, "Account not found", [new FieldError("accountId", "No such account of yours")]);
        }

        if (account.Currency != order.Currency)
        {
            return new Error(ErrorCode.CurrencyMismatch, $"The order is in {order.Currency}; the account holds {account.Currency}");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        // Conditional on 'pending' so two concurrent payments cannot both pass.
        var claimed = await db.Orders.Where(o => o.Id == order.Id && o.Status == OrderStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, OrderStatus.Paid).SetProperty(o => o.PaidAt, now)
                .SetProperty(o => o.UpdatedAt, now).SetProperty(o => o.PaidFromAccountId, account.Id)
                .SetProperty(o => o.Version, o => o.Version + 1), cancellationToken);
        if (claimed == 0)
        {
            return Error.Conflict("The order is no longer pending");
        }

        if (order.Total > 0)
        {
            var house = await system.GetAsync(AccountKind.House, order.Currency, cancellationToken);
            var moved = money.Move(TransactionType.Payment, account, house, order.Total, order.Id, $"Payment for order {order.Id}");
            if (!moved.IsSuccess)
            {
                return moved.Error;
            }
        }

        await db.Entry(order).ReloadAsync(cancellationToken);
        var dto = OrderDto.From(order);
        Outbox.Add(db, clock, "order.paid", order.Id, dto, EventAudience.OwnersAndAdmins(order.UserId));
        cache.Put(OrderCache.Kind, order.Id, dto);
        cache.ListChanged(OrderCache.ListOf(order.UserId));
        return dto;
    }
}

public sealed class PayOrderValidator : AbstractValidator<PayOrderRequest>
{
    public PayOrderValidator() => RuleFor(r => r.AccountId).NotEmpty().WithMessage("Required");
}
