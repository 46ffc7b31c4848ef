using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Features.Accounts;

public enum AccountKind
{
    /// <summary>Belongs to a user.</summary>
    User,

    /// <summary>The system's account per currency that receives order payments.</summary>
    House,

    /// <summary>The counterparty of deposits; the only account allowed below zero.</summary>
    External,
}

public sealed class Account
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>The owning user; null for the system's house and external accounts.</summary>
    public Guid? OwnerId { get; init; }
    public AccountKind Kind { get; init; }
    public required string Currency { get; init; }

    /// <summary>Minor units. Kept on the row for cheap reads; always equal to the sum of the account's entries.</summary>
    public long Balance { get; set; }
    public DateTime CreatedAt { get; init; }

    /// <summary>Bumped by every balance change, so the entity cache keeps the newest balance it was given.</summary>
    public int Version { get; set; } = 1;
}

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> builder)
    {
        builder.ToTable("accounts", t =>
            // The last line of defence: whatever the code does, no user or house account goes negative.
            t.HasCheckConstraint("ck_accounts_balance_non_negative", "balance >= 0 OR kind = 'external'"));
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
        builder.Property(a => a.Kind).HasConversion(LowerCaseEnumColumn<AccountKind>.Converter).HasMaxLength(16);
        builder.HasIndex(a => new { a.OwnerId, a.CreatedAt });
        builder.HasIndex(a => new { a.Kind, a.Currency }).IsUnique().HasFilter("kind <> 'user'");
        builder.HasOne<Users.User>().WithMany().HasForeignKey(a => a.OwnerId).OnDelete(DeleteBehavior.Restrict);
    }
}

/// <summary>This feature's tables on the shared DbContext (the Platform's context knows no feature).</summary>
public static class AccountTables
{
    extension(GroundworkDbContext db)
    {
        public DbSet<Account> Accounts => db.Set<Account>();
    }
}
