using Groundwork.Platform.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Design;

namespace Groundwork.Platform.Persistence;

public static class DatabaseSetup
{
    public static IServiceCollection AddGroundworkDatabase(this IServiceCollection services, GroundworkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        switch (settings.Provider)
        {
            case DatabaseProvider.Sqlite:
                var sqlite = PrepareSqlite(settings.ConnectionString);
                services.AddDbContextPool<GroundworkDbContext, SqliteGroundworkDbContext>((sp, o) => ConfigureSqlite(o, sqlite).AddInterceptors(Interceptors(sp)));
                break;
            case DatabaseProvider.Postgres:
                services.AddDbContextPool<GroundworkDbContext, PostgresGroundworkDbContext>((sp, o) => ConfigurePostgres(o, settings.ConnectionString).AddInterceptors(Interceptors(sp)));
                break;
            default:
                throw new ConfigurationException("Groundwork:Database:Provider", "is not supported");
        }

        return services;
    }

    /// <summary>A commit that wrote events wakes the outbox relay.</summary>
    private static Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor[] Interceptors(IServiceProvider services) =>
        [new Messaging.OutboxCommitInterceptor(services.GetRequiredService<Messaging.OutboxSignal>())];

    internal static DbContextOptionsBuilder ConfigureSqlite(DbContextOptionsBuilder options, string connectionString) =>
        Common(options.UseSqlite(connectionString));

    internal static DbContextOptionsBuilder ConfigurePostgres(DbContextOptionsBuilder options, string connectionString) =>
        Common(options.UseNpgsql(TunePostgres(connectionString), npgsql => npgsql.ConfigureDataSource(ConfigureDataSource)));

    /// <summary>
    /// Our defaults for the PostgreSQL pool, each applied only when the connection string does not set it
    /// (docs/adr/0017-runtime-and-pool-defaults.md):
    /// <list type="bullet">
    /// <item><c>No Reset On Close=true</c>: a returned connection is not reset with <c>DISCARD ALL</c> (a statement
    /// per checkout, and it throws away prepared statements). Nothing here leaves session state behind: settings
    /// are <c>SET LOCAL</c>, advisory locks are transaction-scoped, except the migration lock, which is released
    /// explicitly (a failed release means a broken connection, which Npgsql never pools).</item>
    /// <item><c>Max Auto Prepare=100</c>: statements a connection runs often are prepared once, so PostgreSQL
    /// stops parsing and planning the same SQL on every request. Set it to 0 behind a pooler that cannot
    /// keep prepared statements (PgBouncer before 1.21 in transaction mode).</item>
    /// </list>
    /// </summary>
    public static string TunePostgres(string connectionString)
    {
        // The plain builder keeps the keys as written (Npgsql's own answers "known keyword", not "present").
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys
            .Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant()).ToHashSet();
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("NORESETONCLOSE"))
        {
            builder.NoResetOnClose = true;
        }

        if (!given.Contains("MAXAUTOPREPARE"))
        {
            builder.MaxAutoPrepare = 100;
        }

        return builder.ConnectionString;
    }

    private static void ConfigureDataSource(Npgsql.NpgsqlDataSourceBuilder source)
    {
        // The pool's name labels its metrics; by default it is the connection string (host, port, user, database).
        source.Name = "groundwork";
        source.ConfigureTracing(tracing => tracing
            // Commands are traced as part of something (a request, a relay batch): the background loops' idle polls,
            // a few per second, would otherwise each be a trace of their own and bury the ones that matter.
            .ConfigureCommandFilter(_ => System.Diagnostics.Activity.Current is not null)
            .ConfigureBatchFilter(_ => System.Diagnostics.Activity.Current is not null)
            // Physical connection opens cannot be filtered that way, and the pool opens them outside any request.
            .EnablePhysicalOpenTracing(false));
    }

    private static DbContextOptionsBuilder Common(DbContextOptionsBuilder options) =>
        options.UseSnakeCaseNamingConvention()
            // Sessions and keys of a soft-deleted user are meant to vanish with it (they are revoked anyway).
            .ConfigureWarnings(w => w.Ignore(CoreEventId.PossibleIncorrectRequiredNavigationWithQueryFilterInteractionWarning));

    /// <summary>
    /// Creates the SQLite file's folder and sets a generous busy timeout: SQLite serializes writers, and a
    /// writer that finds the database locked waits for its turn instead of failing the request.
    /// </summary>
    private static string PrepareSqlite(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.DataSource is { Length: > 0 } path && path != ":memory:" && builder.Mode != SqliteOpenMode.Memory)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null && !Directory.Exists(folder))
            {
                // The database holds password hashes and sessions: a folder we create is the service user's alone.
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(folder);
                }
                else
                {
                    Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
        }

        if (builder.DefaultTimeout < 30)
        {
            builder.DefaultTimeout = 30;
        }

        builder.Pooling = true;
        return builder.ToString();
    }

    /// <summary>The PostgreSQL advisory lock that lets one node at a time migrate ("gw-migr").</summary>
    private const long MigrationLockKey = 0x67772D6D69677200;

    /// <summary>
    /// Applies pending migrations; safe when several nodes (or <c>groundwork migrate</c> runs) start at once: on
    /// PostgreSQL they take turns under a session advisory lock, and each finds the work of the one before done.
    /// On SQLite, WAL lets readers run while one writer commits.
    /// </summary>
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            await ApplyAsync(db, cancellationToken);
            return;
        }

        // One connection for the lock and the migrations: a session lock belongs to its connection. No command
        // timeout while waiting for it or migrating: another node's migration (an index build) may take minutes.
        var timeout = db.Database.GetCommandTimeout();
        db.Database.SetCommandTimeout(0);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseSetup));
            await WaitForMigrationLockAsync(db, logger, cancellationToken);
            try
            {
                await ApplyAsync(db, cancellationToken);
            }
            finally
            {
                await UnlockAsync(db, logger);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
            db.Database.SetCommandTimeout(timeout);
        }
    }

    /// <summary>
    /// Takes the lock, saying so while another session holds it: a node stuck behind a hung migration must be
    /// visible in its log, not silent.
    /// </summary>
    private static async Task WaitForMigrationLockAsync(GroundworkDbContext db, ILogger logger, CancellationToken cancellationToken)
    {
        for (var waited = 0; ; waited++)
        {
            if (await db.Database.SqlQueryRaw<bool>($"SELECT pg_try_advisory_lock({MigrationLockKey}) AS \"Value\"").SingleAsync(cancellationToken))
            {
                return;
            }

            if (waited % 10 == 0)
            {
                var holder = await db.Database.SqlQueryRaw<int>(
                    $"SELECT pid AS \"Value\" FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = {MigrationLockKey & 0xFFFFFFFF} AND classid = {MigrationLockKey >> 32}")
                    .FirstOrDefaultAsync(cancellationToken);
                logger.LogWarning("Waiting for the migration lock, held by PostgreSQL backend {Pid} (another node migrating?)", holder);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>A failed unlock is logged, not thrown: it must not hide why migrating failed.</summary>
    private static async Task UnlockAsync(GroundworkDbContext db, ILogger logger)
    {
        try
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
        {
            // The unlock runs without a timeout or cancellation, so it fails only when the connection broke; Npgsql
            // never returns a broken connection to the pool, and the server ends its session and the lock. (A
            // working connection is not reset on return, TunePostgres, so that is why the unlock must not be skipped.)
            logger.LogWarning(e, "Could not release the migration lock (the connection broke; its session, and the lock, end with it)");
        }
    }

    private static async Task ApplyAsync(GroundworkDbContext db, CancellationToken cancellationToken)
    {
        // Create the history table first: otherwise EF probes it on a fresh database and logs the failed probe as an
        // Error, so every first start would look broken.
        await Microsoft.EntityFrameworkCore.Infrastructure.AccessorExtensions.GetService<Microsoft.EntityFrameworkCore.Migrations.IHistoryRepository>(db).CreateIfNotExistsAsync(cancellationToken);

        // A restart with nothing to apply stops here. MigrateAsync would first check that the model matches the
        // last migration, building EF's design-time model a second time (`groundwork migrate` on a migrated database:
        // 1.5–1.8 s instead of 1.9 s on a slow day, ADR 0023). That check runs in the tests instead
        // (MigrationsMatchModelTests), where a forgotten migration belongs. On PostgreSQL this runs under the
        // migration lock, so a node that finds nothing pending read the history after any other node finished.
        if (!(await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
        {
            return;
        }

        await db.Database.MigrateAsync(cancellationToken);
    }
}

/// <summary>Lets <c>dotnet ef migrations add X --context SqliteGroundworkDbContext</c> build the model.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteGroundworkDbContext>
{
    public SqliteGroundworkDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<SqliteGroundworkDbContext>();
        DatabaseSetup.ConfigureSqlite(options, "Data Source=design.db");
        return new SqliteGroundworkDbContext(options.Options);
    }
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresGroundworkDbContext>
{
    public PostgresGroundworkDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PostgresGroundworkDbContext>();
        DatabaseSetup.ConfigurePostgres(options, "Host=localhost;Database=design");
        return new PostgresGroundworkDbContext(options.Options);
    }
}
