using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Platform.Idempotency;

public enum IdempotencyState
{
    InFlight,
    Completed,
}

/// <summary>
/// One use of an <c>Idempotency-Key</c> by one principal. It is claimed (in flight) before the operation runs,
/// completed in the operation's own transaction, and deleted if the operation fails, so only successful
/// requests are remembered (and replayed) for 24 h.
/// </summary>
public sealed class IdempotencyRecord
{
    public required string Principal { get; init; }
    public required string Key { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    public required string Fingerprint { get; init; }
    public IdempotencyState State { get; set; }

    /// <summary>Identifies the request holding the claim; only it may complete the record.</summary>
    public Guid LockToken { get; set; }

    /// <summary>A claim past this instant was abandoned (a crash) and may be taken over by a retry.</summary>
    public DateTime LockedUntil { get; set; }
    public int? ResponseStatus { get; set; }
    public string? ResponseBody { get; set; }
    public string? ResponseLocation { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime ExpiresAt { get; init; }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.ToTable("idempotency_records");
        builder.HasKey(r => new { r.Principal, r.Key });
        builder.Property(r => r.Principal).HasMaxLength(64);
        builder.Property(r => r.Key).HasMaxLength(255);
        builder.Property(r => r.Method).HasMaxLength(10);
        builder.Property(r => r.Path).HasMaxLength(512);
        builder.Property(r => r.Fingerprint).HasMaxLength(64);
        builder.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.ResponseLocation).HasMaxLength(512);
        builder.HasIndex(r => r.ExpiresAt);
    }
}
