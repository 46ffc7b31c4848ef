using System.Text.Json;
using Groundwork.Platform.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// A domain event waiting to be published, written in the same transaction as the change that caused it, so
/// an event exists exactly when its change committed. <see cref="Sequence"/> is the database's monotonically
/// increasing row number (SSE ids and replay use it).
/// </summary>
public sealed class OutboxMessage
{
    public long Sequence { get; init; }
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Type { get; init; }
    public DateTime OccurredAt { get; init; }
    public Guid Subject { get; init; }

    /// <summary>The event's <c>data</c> as JSON.</summary>
    public required string Data { get; init; }
    public DateTime? PublishedAt { get; set; }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("outbox");
        builder.HasKey(m => m.Sequence);
        builder.Property(m => m.Sequence).ValueGeneratedOnAdd();
        builder.Property(m => m.Type).HasMaxLength(64);
        builder.HasIndex(m => m.Id).IsUnique();
        builder.HasIndex(m => m.PublishedAt);
        builder.HasIndex(m => new { m.Type, m.Subject });
    }
}

/// <summary>Stages events on the current DbContext; they are saved by the same SaveChanges as the change.</summary>
public static class Outbox
{
    public static void Add(DbContext db, TimeProvider clock, string type, Guid subject, object data)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(clock);
        db.Set<OutboxMessage>().Add(new OutboxMessage
        {
            Type = type,
            Subject = subject,
            OccurredAt = clock.GetUtcNow().UtcDateTime,
            Data = JsonSerializer.Serialize(data, data.GetType(), Json.Options),
        });
    }
}
