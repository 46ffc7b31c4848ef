using Groundwork.Platform.Persistence;
using Groundwork.Features.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Features.Ledger;

public enum TransactionType
{
    Transfer,
    Deposit,
    Payment,
    Refund,
}

/// <summary>One movement of money: always exactly two entries, a debit and a credit, summing to zero.</summary>
public sealed class LedgerTransaction
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public TransactionType Type { get; init; }
    public long Amount { get; init; }
    public required string Currency { get; init; }
    public Guid FromAccountId { get; init; }
    public Guid ToAccountId { get; init; }
    public Guid? OrderId { get; init; }
    public string? Description { get; init; }
    public DateTime CreatedAt { get; init; }
}

/// <summary>A signed change to one account's balance (negative: debit, positive: credit).</summary>
public sealed class LedgerEntry
{
    /// <summary>Database-assigned, increasing: the keyset for account history.</summary>
    public long Id { get; init; }
    public Guid TransactionId { get; init; }
    public Guid AccountId { get; init; }
    public long Amount { get; init; }
    public DateTime CreatedAt { get; init; }
}

internal sealed class LedgerTransactionConfiguration : IEntityTypeConfiguration<LedgerTransaction>
{
    public void Configure(EntityTypeBuilder<LedgerTransaction> builder)
    {
        builder.ToTable("ledger_transactions", t => t.HasCheckConstraint("ck_ledger_transactions_amount_positive", "amount > 0"));
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Type).HasConversion(LowerCaseEnumColumn<TransactionType>.Converter).HasMaxLength(16);
        builder.Property(t => t.Currency).HasMaxLength(3).IsFixedLength();
        builder.Property(t => t.Description).HasMaxLength(500);
        builder.HasOne<Account>().WithMany().HasForeignKey(t => t.FromAccountId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Account>().WithMany().HasForeignKey(t => t.ToAccountId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(t => t.OrderId);
    }
}

internal sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> builder)
    {
        builder.ToTable("ledger_entries");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        builder.HasOne<LedgerTransaction>().WithMany().HasForeignKey(e => e.TransactionId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Account>().WithMany().HasForeignKey(e => e.AccountId).OnDelete(DeleteBehavior.Restrict);
        // Keyset pagination of an account's history: (account_id, id) serves "newest first after cursor" at any depth.
        builder.HasIndex(e => new { e.AccountId, e.Id });
        builder.HasIndex(e => e.TransactionId);
    }
}

/// <summary>This feature's tables on the shared DbContext (the Platform's context knows no feature).</summary>
public static class LedgerTransactionTables
{
    extension(GroundworkDbContext db)
    {
        public DbSet<LedgerTransaction> LedgerTransactions => db.Set<LedgerTransaction>();
        public DbSet<LedgerEntry> LedgerEntries => db.Set<LedgerEntry>();
    }
}
