using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// A durable consumer of the event log (the webhook dispatcher, for one). <see cref="ConsumerRunner"/> hands it
/// each event in sequence order; the consumer stages its effects on the scoped DbContext (never SaveChanges), and
/// they commit in the same transaction that moves its checkpoint. So an event's effect happens exactly once however
/// often a crash or a retry makes the event come again.
/// </summary>
public interface IEventConsumer
{
    /// <summary>Its checkpoint's key; never rename a consumer that has run (it would start over).</summary>
    string Name { get; }

    bool Wants(string eventType);

    Task HandleAsync(EventEnvelope e, CancellationToken cancellationToken);
}

/// <summary>How far a consumer has processed the event log (the sequence of the last event it handled or skipped).</summary>
public sealed class ConsumerCheckpoint
{
    public required string Consumer { get; init; }
    public long Sequence { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>An event a consumer failed on <see cref="ConsumerRunner.MaxAttempts"/> times and set aside, so the rest could flow (admins see them).</summary>
public sealed class DeadLetter
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Consumer { get; init; }
    public Guid EventId { get; init; }
    public long Sequence { get; init; }
    public required string EventType { get; init; }
    public required string Error { get; init; }
    public int Attempts { get; init; }
    public DateTime CreatedAt { get; init; }
}

internal sealed class ConsumerCheckpointConfiguration : IEntityTypeConfiguration<ConsumerCheckpoint>
{
    public void Configure(EntityTypeBuilder<ConsumerCheckpoint> builder)
    {
        builder.ToTable("consumer_checkpoints");
        builder.HasKey(c => c.Consumer);
        builder.Property(c => c.Consumer).HasMaxLength(64);
    }
}

internal sealed class DeadLetterConfiguration : IEntityTypeConfiguration<DeadLetter>
{
    public void Configure(EntityTypeBuilder<DeadLetter> builder)
    {
        builder.ToTable("dead_letters");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Consumer).HasMaxLength(64);
        builder.Property(d => d.EventType).HasMaxLength(64);
        builder.Property(d => d.Error).HasMaxLength(2_000);
        builder.HasIndex(d => new { d.Consumer, d.EventId }).IsUnique();
        builder.HasIndex(d => d.CreatedAt);
    }
}
