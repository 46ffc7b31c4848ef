using Groundwork.Features.Accounts;
using Groundwork.Features.ApiKeys;
using Groundwork.Features.Ledger;
using Groundwork.Features.Orders;
using Groundwork.Features.Posts;
using Groundwork.Platform.Idempotency;
using Groundwork.Platform.Messaging;
using Groundwork.Features.Auth;
using Groundwork.Features.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Groundwork.Platform.Persistence;

/// <summary>
/// The one model. Each provider has a subclass only so that each gets its own migrations
/// (see docs/adr/0002-one-model-two-providers.md).
/// </summary>
public abstract class GroundworkDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<Session> Sessions => Set<Session>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Post> Posts => Set<Post>();
    public DbSet<Order> Orders => Set<Order>();
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<LedgerTransaction> LedgerTransactions => Set<LedgerTransaction>();
    public DbSet<LedgerEntry> LedgerEntries => Set<LedgerEntry>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(GroundworkDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);

        // All timestamps are UTC. SQLite hands DateTime back as Unspecified; this restores the kind so
        // serialization always writes the 'Z'. DateTimeOffset is avoided because SQLite cannot sort by it.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

public sealed class SqliteGroundworkDbContext(DbContextOptions<SqliteGroundworkDbContext> options)
    : GroundworkDbContext(options);

public sealed class PostgresGroundworkDbContext(DbContextOptions<PostgresGroundworkDbContext> options)
    : GroundworkDbContext(options);
