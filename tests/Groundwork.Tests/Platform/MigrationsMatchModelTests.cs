using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Platform;

/// <summary>
/// The model and each provider's migrations agree. EF's MigrateAsync checks this itself, but it does so by building
/// the design-time model a second time, so a start with no pending migration does not call it
/// (DatabaseSetup.ApplyAsync): a change to an entity that forgot its migration is caught here instead.
/// </summary>
public sealed class MigrationsMatchModelTests
{
    [Fact]
    public void The_sqlite_migrations_match_the_model()
    {
        using var db = new SqliteDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(), Hint("SqliteGroundworkDbContext", "Sqlite"));
    }

    [Fact]
    public void The_postgres_migrations_match_the_model()
    {
        using var db = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(), Hint("PostgresGroundworkDbContext", "Postgres"));
    }

    private static string Hint(string context, string folder) =>
        "The model changed without a migration. Add one: dotnet tool restore && dotnet ef migrations add <Name> "
        + $"--project src/Groundwork --context {context} --output-dir Platform/Persistence/Migrations/{folder}";
}
