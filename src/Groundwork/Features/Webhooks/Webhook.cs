using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Features.Webhooks;

/// <summary>An endpoint that receives the events it subscribed to, signed with its secret (docs/api/webhooks.md).</summary>
public sealed class Webhook
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Url { get; set; }

    /// <summary>Space-separated event types.</summary>
    public required string Events { get; set; }
    public string? Description { get; set; }
    public bool Active { get; set; } = true;

    /// <summary>The signing secret, encrypted with the service's data-protection keys (never stored in clear, shown once).</summary>
    public required string ProtectedSecret { get; set; }

    /// <summary>The secret before the last rotation, still signed with until <see cref="PreviousSecretExpiresAt"/>.</summary>
    public string? ProtectedPreviousSecret { get; set; }
    public DateTime? PreviousSecretExpiresAt { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; set; }

    public IReadOnlyList<string> EventList => Events.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

public enum DeliveryStatus
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>One event for one webhook: retried with back-off until it succeeds or its retry window ends.</summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid WebhookId { get; init; }
    public Guid EventId { get; init; }
    public required string EventType { get; init; }
    public long Sequence { get; init; }

    /// <summary>The event JSON exactly as sent (the signature covers these bytes).</summary>
    public required string Payload { get; init; }
    public DeliveryStatus Status { get; set; }
    public int Attempts { get; set; }
    public DateTime NextAttemptAt { get; set; }

    /// <summary>Claimed by a node's sender until then (a crashed node's claims lapse).</summary>
    public DateTime? LockedUntil { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public DateTime CreatedAt { get; init; }

    /// <summary>Start of the retry window (creation, or the last manual redelivery).</summary>
    public DateTime RetryFrom { get; set; }
    public DateTime? CompletedAt { get; set; }
}

/// <summary>Every try of a delivery, for the delivery log.</summary>
public sealed class WebhookAttempt
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid DeliveryId { get; init; }
    public DateTime AttemptedAt { get; init; }
    public int? StatusCode { get; init; }
    public string? Error { get; init; }
    public int DurationMs { get; init; }
}

internal sealed class WebhookConfiguration : IEntityTypeConfiguration<Webhook>
{
    public void Configure(EntityTypeBuilder<Webhook> builder)
    {
        builder.ToTable("webhooks");
        builder.HasKey(w => w.Id);
        builder.Property(w => w.Url).HasMaxLength(2_000);
        builder.Property(w => w.Events).HasMaxLength(1_000);
        builder.Property(w => w.Description).HasMaxLength(500);
        builder.Property(w => w.ProtectedSecret).HasMaxLength(1_000);
        builder.Property(w => w.ProtectedPreviousSecret).HasMaxLength(1_000);
        builder.HasIndex(w => w.CreatedAt);
        builder.Ignore(w => w.EventList);
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.EventType).HasMaxLength(64);
        builder.Property(d => d.LastError).HasMaxLength(500);
        builder.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
        // The inbox: one delivery per webhook and event, however often the event is handed over.
        builder.HasIndex(d => new { d.WebhookId, d.EventId }).IsUnique();
        builder.HasIndex(d => new { d.Status, d.NextAttemptAt });
        builder.HasIndex(d => new { d.WebhookId, d.CreatedAt });
        builder.HasOne<Webhook>().WithMany().HasForeignKey(d => d.WebhookId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookAttemptConfiguration : IEntityTypeConfiguration<WebhookAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookAttempt> builder)
    {
        builder.ToTable("webhook_attempts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Error).HasMaxLength(500);
        builder.HasIndex(a => new { a.DeliveryId, a.AttemptedAt });
        builder.HasOne<WebhookDelivery>().WithMany().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }
}

public static class WebhookTables
{
    extension(GroundworkDbContext db)
    {
        public DbSet<Webhook> Webhooks => db.Set<Webhook>();
        public DbSet<WebhookDelivery> WebhookDeliveries => db.Set<WebhookDelivery>();
        public DbSet<WebhookAttempt> WebhookAttempts => db.Set<WebhookAttempt>();
    }
}
