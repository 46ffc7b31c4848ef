using System.Net.Sockets;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Groundwork.App;

/// <summary>
/// <c>groundwork doctor</c>: checks this node's configuration and every dependency it is configured to use, and
/// prints one line per check (<c>ok</c>, <c>warn</c> or <c>FAIL</c>, what, and what is wrong). Changes nothing: no
/// migrations, no keys. Exit code 0 when nothing failed, 1 otherwise. A configuration value that does not parse
/// never gets here: the start fails first, with one line naming the key (exit code 2).
/// </summary>
public static class Doctor
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(output);
        var settings = services.GetRequiredService<GroundworkSettings>();
        var failed = 0;

        async Task Report(string status, string what, string detail)
        {
            failed += status == "FAIL" ? 1 : 0;
            await output.WriteLineAsync($"{status,-4}  {what,-14} {detail}");
        }

        await Report("ok", "configuration", $"{services.GetRequiredService<IHostEnvironment>().EnvironmentName}, {settings.Provider} database, broker {settings.Broker.ToString().ToLowerInvariant()}, Redis {(settings.Redis is null ? "off" : "on")}");
        await CheckDatabaseAsync(services, Report);
        await Report(SigningKeys(services.GetRequiredService<SigningKeyStore>(), out var keys), "signing keys", keys);

        // Redis and RabbitMQ: the same probes /health/ready runs. Degraded there (the node still serves) is a
        // failure here: the dependency it was configured to use is not answering.
        var health = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Name is "redis" or "rabbitmq");
        foreach (var (name, entry) in health.Entries)
        {
            await Report(entry.Status == HealthStatus.Healthy ? "ok" : "FAIL", name, entry.Description ?? entry.Status.ToString());
        }

        if (settings.OtlpEndpoint is { } otlp)
        {
            await Report(await ReachableAsync(otlp.Host, otlp.Port) ? "ok" : "FAIL", "otlp", $"{settings.OtlpProtocol} to {otlp.Host}:{otlp.Port}");
        }

        if (settings.Provider == DatabaseProvider.Sqlite && services.GetRequiredService<IHostEnvironment>().IsProduction())
        {
            await Report("warn", "topology", "SQLite serves one node; run PostgreSQL (and Redis, RabbitMQ) to run several");
        }

        if (settings.Provider == DatabaseProvider.Postgres && (settings.Redis is null || settings.Broker != MessageBroker.RabbitMq))
        {
            await Report("warn", "topology", "several nodes need Redis (shared cache, limits) and RabbitMQ (events); this node runs without " +
                string.Join(" and ", new[] { settings.Redis is null ? "Redis" : null, settings.Broker != MessageBroker.RabbitMq ? "RabbitMQ" : null }.OfType<string>()));
        }

        return failed == 0 ? 0 : 1;
    }

    private static async Task CheckDatabaseAsync(IServiceProvider services, Func<string, string, string, Task> report)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        using var timeout = new CancellationTokenSource(CheckTimeout);
        if (db.Database.IsSqlite() && SqliteFile(db) is { } file && !File.Exists(file))
        {
            await report("warn", "database", $"{file} does not exist yet (the first start creates it)");
            return;
        }

        try
        {
            // Opened directly (not CanConnect) so the provider's reason reaches the operator: host, authentication,
            // database; Npgsql's messages never include the password.
            await db.Database.OpenConnectionAsync(timeout.Token);
            var pending = (await db.Database.GetPendingMigrationsAsync(timeout.Token)).Count();
            await report(pending == 0 ? "ok" : "warn", "database",
                pending == 0 ? "reachable, schema up to date" : $"reachable, {pending} migration(s) pending: run `groundwork migrate` (nodes also migrate on start unless Groundwork:Database:MigrateOnStart=false)");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // EF wraps the provider's exception in "likely a transient failure": the provider's words are the useful ones.
            var cause = e is InvalidOperationException { InnerException: { } provider } ? provider : e;
            await report("FAIL", "database", OneLine(cause.InnerException is { } inner ? $"{cause.Message}: {inner.Message}" : cause.Message));
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static string? SqliteFile(GroundworkDbContext db) =>
        new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource is { Length: > 0 } path && path != ":memory:"
            ? Path.GetFullPath(path)
            : null;

    private static string SigningKeys(SigningKeyStore store, out string detail)
    {
        if (!Directory.Exists(store.Folder))
        {
            detail = $"{store.Folder} does not exist yet (the first start creates it and a key)";
            return "warn";
        }

        try
        {
            var count = store.Keys().Count;
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(store.Folder) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                detail = $"{count} key(s) in {store.Folder}, but the folder is readable by other users (chmod 700 it)";
                return "warn";
            }

            detail = $"{count} key(s) in {store.Folder}";
            return "ok";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            detail = $"{store.Folder}: {OneLine(e.Message)}";
            return "FAIL";
        }
    }

    private static async Task<bool> ReachableAsync(string host, int port)
    {
        using var timeout = new CancellationTokenSource(CheckTimeout);
        try
        {
            using var socket = new TcpClient();
            await socket.ConnectAsync(host, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
