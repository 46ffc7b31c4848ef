using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Platform;

/// <summary>
/// The model and each provider's migrations agree. A start with no pending migration skips EF's own check of this
/// (it rebuilds the design-time model at every start, DatabaseSetup.ApplyAsync), so a change to an entity that
/// forgot its migration is caught here instead.
/// </summary>
public sealed class MigrationsMatchModelTests
{
    [Fact]
    public void The_sqlite_migrations_match_the_model()
    {
        using var db = new SqliteDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(), "the model changed without a migration: dotnet ef migrations add <Name> --context SqliteGroundworkDbContext");
    }

    [Fact]
    public void The_postgres_migrations_match_the_model()
    {
        using var db = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(), "the model changed without a migration: dotnet ef migrations add <Name> --context PostgresGroundworkDbContext");
    }
}
