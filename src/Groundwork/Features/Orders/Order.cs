using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Features.Orders;

public enum OrderStatus
{
    Pending,
    Paid,
    Cancelled,
    Refunded,
}

public sealed class Order
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }
    public OrderStatus Status { get; set; } = OrderStatus.Pending;
    public required string Currency { get; init; }
    public List<OrderItem> Items { get; init; } = [];

    /// <summary>Computed by the server from the items; never taken from the client.</summary>
    public long Total { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? PaidAt { get; set; }

    /// <summary>The account that paid, where a refund goes back to.</summary>
    public Guid? PaidFromAccountId { get; set; }

    /// <summary>Bumped by every status change, so the entity cache keeps the newest state it was given.</summary>
    public int Version { get; set; } = 1;
}

public sealed class OrderItem
{
    public required string Sku { get; init; }
    public required string Name { get; init; }
    public int Quantity { get; init; }
    public long UnitPrice { get; init; }
}

internal sealed class OrderConfiguration : IEntityTypeConfiguration<Order>
{
    public void Configure(EntityTypeBuilder<Order> builder)
    {
        builder.ToTable("orders");
        builder.HasKey(o => o.Id);
        builder.Property(o => o.Currency).HasMaxLength(3).IsFixedLength();
        builder.Property(o => o.Status).HasConversion(LowerCaseEnumColumn<OrderStatus>.Converter).HasMaxLength(16);
        builder.HasOne<Users.User>().WithMany().HasForeignKey(o => o.UserId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(o => new { o.UserId, o.CreatedAt });
        builder.HasIndex(o => new { o.UserId, o.Status, o.CreatedAt });
        builder.OwnsMany(o => o.Items, items =>
        {
            items.ToTable("order_items");
            items.WithOwner().HasForeignKey("OrderId");
            items.Property<int>("Id").ValueGeneratedOnAdd();
            items.HasKey("Id");
            items.Property(i => i.Sku).HasMaxLength(64);
            items.Property(i => i.Name).HasMaxLength(200);
        });
    }
}

/// <summary>This feature's tables on the shared DbContext (the Platform's context knows no feature).</summary>
public static class OrderTables
{
    extension(GroundworkDbContext db)
    {
        public DbSet<Order> Orders => db.Set<Order>();
    }
}
