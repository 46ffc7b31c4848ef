using Groundwork.Platform.Idempotency;
using Groundwork.Platform.Messaging;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Groundwork.Platform.Persistence;

/// <summary>
/// The one model. Each provider has a subclass only so that each gets its own migrations
/// (see docs/adr/0002-one-model-two-providers.md). Features bring their entities (configurations found in the
/// assembly) and their table properties (<c>db.Users</c> and so on, as extension members next to each entity).
/// </summary>
public abstract class GroundworkDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<Caching.CacheRepair> CacheRepairs => Set<Caching.CacheRepair>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(GroundworkDbContext).Assembly);

        // Foreign keys are named after the tables they join (fk_orders_users_user_id), as they were when the model
        // had a DbSet per table; without this, names would follow the entity classes and every migration would
        // rename constraints.
        foreach (var foreignKey in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetForeignKeys()))
        {
            var columns = string.Join('_', foreignKey.Properties.Select(p => p.GetColumnName()));
            foreignKey.SetConstraintName($"fk_{foreignKey.DeclaringEntityType.GetTableName()}_{foreignKey.PrincipalEntityType.GetTableName()}_{columns}");
        }
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
