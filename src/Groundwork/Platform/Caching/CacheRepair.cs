using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Platform.Caching;

/// <summary>
/// The cache keys one committed transaction writes through after its commit (ADR 0024), written in that
/// transaction. The writer deletes it once its writes reached Redis; one left behind (its writer died in between)
/// is applied by any node after <c>Groundwork:Cache:RepairAfter</c>, or at once when the operation is replayed by
/// its idempotency key. Only with Redis: without it the cache lives and dies with the process that wrote it.
/// </summary>
public sealed class CacheRepair
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>The writer's clock at the transaction: a node's clock running ahead of the others delays its repairs.</summary>
    public DateTime CreatedAt { get; init; }

    /// <summary>The entity keys and list generation keys, one per line.</summary>
    public required string Keys { get; init; }

    /// <summary>The idempotency claim the transaction completed (<c>{principal}\n{key}</c>), if any: a replay repairs at once.</summary>
    public string? Claim { get; init; }

    public const int MaxClaimLength = Idempotency.IdempotencyRecord.MaxPrincipalLength + 1 + Idempotency.IdempotencyClaim.MaxKeyLength;

    public static string ClaimOf(Idempotency.IdempotencyClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return claim.Principal + "\n" + claim.Key;
    }
}

internal sealed class CacheRepairConfiguration : IEntityTypeConfiguration<CacheRepair>
{
    public void Configure(EntityTypeBuilder<CacheRepair> builder)
    {
        // Rows live about a second (until their writer's cache writes are done), so the table stays small and the
        // sweep scans it. A replay looks up its claim, through an index that only keyed writes pay for: a Redis
        // outage (records wait) must not make every replay a scan of a grown table.
        builder.ToTable("cache_repairs");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Claim).HasMaxLength(CacheRepair.MaxClaimLength);
        builder.HasIndex(r => r.Claim).HasFilter("claim IS NOT NULL");
    }
}
