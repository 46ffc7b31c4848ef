namespace Groundwork.Features.Orders;

public sealed record OrderItemDto(string Sku, string Name, int Quantity, long UnitPrice);

public sealed record OrderDto(
    Guid Id, Guid UserId, OrderStatus Status, string Currency, IReadOnlyList<OrderItemDto> Items, long Total,
    DateTime CreatedAt, DateTime UpdatedAt, DateTime? PaidAt)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int Version { get; init; }

    public static OrderDto From(Order o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new(o.Id, o.UserId, o.Status, o.Currency, o.Items.Select(i => new OrderItemDto(i.Sku, i.Name, i.Quantity, i.UnitPrice)).ToList(),
            o.Total, o.CreatedAt, o.UpdatedAt, o.PaidAt) { Version = o.Version };
    }
}
