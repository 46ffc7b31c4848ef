using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Features.Audit;

/// <summary>One security event (sign-ins, refused sign-ins, authorization failures), kept for admins.</summary>
public sealed class AuditEntry
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>The event it records; unique, so a redelivered event is recorded once (the inbox).</summary>
    public Guid EventId { get; init; }
    public long Sequence { get; init; }
    public required string Type { get; init; }
    public Guid Subject { get; init; }
    public DateTime OccurredAt { get; init; }

    /// <summary>The event's data (user, IP, user agent, operation, reason) as JSON.</summary>
    public required string Data { get; init; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_log");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Type).HasMaxLength(64);
        builder.HasIndex(a => a.EventId).IsUnique();
        builder.HasIndex(a => a.Sequence);
        builder.HasIndex(a => new { a.Type, a.Sequence });
    }
}

public static class AuditTables
{
    extension(GroundworkDbContext db)
    {
        public DbSet<AuditEntry> AuditLog => db.Set<AuditEntry>();
    }
}
