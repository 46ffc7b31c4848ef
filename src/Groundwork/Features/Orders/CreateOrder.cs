using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Features.Accounts;
using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Features.Users;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Orders;

public sealed record CreateOrderItem(string? Sku, string? Name, int Quantity, long UnitPrice);

/// <param name="UserId">Who orders; absent means the caller (admins may order for anyone).</param>
public sealed record CreateOrderRequest(Guid? UserId, string? Currency, IReadOnlyList<CreateOrderItem>? Items);

public sealed class CreateOrderValidator : AbstractValidator<CreateOrderRequest>
{
    public const int MaxItems = 100;

    /// <summary>Caps the unit price so 100 items × 1000 units can never overflow a 64-bit total.</summary>
    public const long MaxUnitPrice = 1_000_000_000_000;

    public CreateOrderValidator()
    {
        RuleFor(r => r.Currency).Must(Currencies.IsValid).WithMessage("Must be an ISO 4217 currency code such as EUR or USD");
        RuleFor(r => r.Items).NotEmpty().WithMessage("At least one item is required")
            .Must(i => i is null || i.Count <= MaxItems).WithMessage($"At most {MaxItems} items")
            // Checked per item above first, so the sum cannot overflow; the total must be payable in one movement.
            .Must(i => i is null || i.Any(x => x is null || x.UnitPrice is < 0 or > MaxUnitPrice || x.Quantity is < 1 or > 1000)
                || i.Sum(x => x.UnitPrice * x.Quantity) <= Money.MaxAmount)
            .WithMessage($"The order total must be at most {Money.MaxAmount} minor units");
        // Without this a null item is a NullReferenceException (500): ChildRules skip nulls.
        RuleForEach(r => r.Items).NotNull().WithMessage("Must be an item object");
        RuleForEach(r => r.Items).ChildRules(item =>
        {
            item.RuleFor(i => i.Sku).NotEmpty().WithMessage("Required").MaximumLength(64);
            item.RuleFor(i => i.Name).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("Required").MaximumLength(200);
            item.RuleFor(i => i.Quantity).InclusiveBetween(1, 1000);
            item.RuleFor(i => i.UnitPrice).InclusiveBetween(0, MaxUnitPrice);
        }).When(r => r.Items is not null);
    }
}

/// <summary>A user orders for themselves (admins for anyone); the total is computed here.</summary>
public sealed class CreateOrder(GroundworkDbContext db, CacheWrites cache, TimeProvider clock) : IOperation<CreateOrderRequest, OrderDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.OrdersWrite);

    public Execution Execution => Execution.WriteWithOptionalKey("orders.create");

    public CreateOrderRequest WithDefaults(CreateOrderRequest request, Caller caller) => request with { UserId = request.UserId ?? caller.UserId };

    public async Task<Result<OrderDto>> HandleAsync(CreateOrderRequest request, Caller caller, CancellationToken cancellationToken)
    {
        // WithDefaults made it the caller when none was named; a caller without a user (none can pass the policy) orders for no one.
        var userId = request.UserId ?? Guid.Empty;
        if (!caller.Is(userId) && !caller.IsAdmin)
        {
            return caller.IsStaff ? Error.Forbidden("Only admins may order for other users") : Error.NotFound("User");
        }

        if (!await db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            return Error.NotFound("User");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var items = request.Items!.Select(i => new OrderItem { Sku = i.Sku!, Name = i.Name!.Trim(), Quantity = i.Quantity, UnitPrice = i.UnitPrice }).ToList();
        var order = new Order
        {
            UserId = userId,
            Currency = request.Currency!,
            Items = items,
            Total = items.Sum(i => i.Quantity * i.UnitPrice),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Orders.Add(order);
        cache.ListChanged(OrderCache.ListOf(order.UserId));
        var dto = OrderDto.From(order);
        Outbox.Add(db, clock, "order.created", order.Id, dto, EventAudience.OwnersAndAdmins(order.UserId));
        return dto;
    }
}
