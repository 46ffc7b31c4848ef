using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Platform.Idempotency;

/// <summary>
/// One use of an idempotency key by one principal, written in the same transaction as the change it guards
/// (docs/adr/0005-idempotency.md): a committed record always holds its response, and a crash or rollback leaves
/// none behind. Kept 24 h for replay.
/// </summary>
public sealed class IdempotencyRecord
{
    /// <summary>The longest <see cref="Principal"/> (<c>user:{guid}</c>, <c>key:{guid}</c>, <c>ip:{address}</c>).</summary>
    public const int MaxPrincipalLength = 64;

    public required string Principal { get; init; }
    public required string Key { get; init; }

    /// <summary>The operation's stable idempotency name (e.g. <c>transfers.create</c>).</summary>
    public required string Operation { get; init; }

    /// <summary>SHA-256 of the request's canonical JSON: the same key with other content is refused.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>The operation's value as JSON, replayed by every transport in its own shape.</summary>
    public string? Response { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime ExpiresAt { get; init; }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.ToTable("idempotency_records");
        builder.HasKey(r => new { r.Principal, r.Key });
        builder.Property(r => r.Principal).HasMaxLength(IdempotencyRecord.MaxPrincipalLength);
        builder.Property(r => r.Key).HasMaxLength(255);
        builder.Property(r => r.Operation).HasMaxLength(64);
        builder.Property(r => r.Fingerprint).HasMaxLength(64);
        builder.HasIndex(r => r.ExpiresAt);
    }
}
