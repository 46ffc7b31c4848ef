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

    public enum Verdict
    {
        Ok,
        Warn,
        Fail,
    }

    /// <summary>One line of the report.</summary>
    public sealed record Finding(Verdict Verdict, string What, string Detail)
    {
        public override string ToString() =>
            $"{Verdict switch { Verdict.Ok => "ok", Verdict.Warn => "warn", _ => "FAIL" },-4}  {What,-14} {Detail}";
    }

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(output);
        var failed = false;
        await foreach (var finding in CheckAsync(services))
        {
            failed |= finding.Verdict == Verdict.Fail;
            await output.WriteLineAsync(finding.ToString());
        }

        return failed ? 1 : 0;
    }

    private static async IAsyncEnumerable<Finding> CheckAsync(IServiceProvider services)
    {
        var settings = services.GetRequiredService<GroundworkSettings>();
        var environment = services.GetRequiredService<IHostEnvironment>();
        var broker = settings.Broker == MessageBroker.RabbitMq ? "rabbitmq" : "in process";
        yield return new Finding(Verdict.Ok, "configuration",
            $"{environment.EnvironmentName}, {settings.Provider} database, events {broker}, Redis {(settings.Redis is null ? "off" : "on")}");
        yield return await CheckDatabaseAsync(services);
        yield return CheckSigningKeys(services.GetRequiredService<SigningKeyStore>());

        // Redis and RabbitMQ: the same probes /health/ready runs. Degraded there (the node still serves) is a
        // failure here: the dependency it was configured to use is not answering.
        var health = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Name is "redis" or "rabbitmq");
        foreach (var (name, entry) in health.Entries)
        {
            yield return new Finding(entry.Status == HealthStatus.Healthy ? Verdict.Ok : Verdict.Fail, name, entry.Description ?? entry.Status.ToString());
        }

        if (settings.OtlpEndpoint is { } otlp)
        {
            var protocol = settings.OtlpProtocol == OtlpProtocol.HttpProtobuf ? "http/protobuf" : "grpc";
            yield return await ReachableAsync(otlp.Host, otlp.Port)
                ? new Finding(Verdict.Ok, "otlp", $"{protocol} collector at {otlp.Host}:{otlp.Port} accepts connections")
                : new Finding(Verdict.Fail, "otlp", $"nothing accepts connections at {otlp.Host}:{otlp.Port} ({protocol}); traces, metrics and logs are dropped");
        }

        if (settings.Provider == DatabaseProvider.Sqlite && environment.IsProduction())
        {
            yield return new Finding(Verdict.Warn, "topology", "SQLite serves one node; run PostgreSQL (and Redis, RabbitMQ) to run several");
        }

        var missing = new[] { settings.Redis is null ? "Redis" : null, settings.Broker != MessageBroker.RabbitMq ? "RabbitMQ" : null }.OfType<string>().ToList();
        if (settings.Provider == DatabaseProvider.Postgres && missing.Count > 0)
        {
            yield return new Finding(Verdict.Warn, "topology",
                $"fine for one node; several nodes need Redis (shared cache, limits) and RabbitMQ (events), and this one has no {string.Join(" and no ", missing)}");
        }
    }

    private static async Task<Finding> CheckDatabaseAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        if (db.Database.IsSqlite() && SqliteFile(db) is { } file && !File.Exists(file))
        {
            return new Finding(Verdict.Warn, "database", $"{file} does not exist yet (the first start creates it)");
        }

        using var timeout = new CancellationTokenSource(CheckTimeout);
        try
        {
            // Opened directly (not CanConnect) so the provider's reason reaches the operator: host, authentication,
            // database; Npgsql's messages never include the password.
            await db.Database.OpenConnectionAsync(timeout.Token);
            var pending = (await db.Database.GetPendingMigrationsAsync(timeout.Token)).Count();
            return pending == 0
                ? new Finding(Verdict.Ok, "database", "reachable, schema up to date")
                : new Finding(Verdict.Warn, "database", $"reachable, {pending} migration(s) pending: run `groundwork migrate` (nodes also migrate on start unless Groundwork:Database:MigrateOnStart=false)");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new Finding(Verdict.Fail, "database", $"no answer within {CheckTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // EF wraps the provider's exception in "likely a transient failure": the provider's words are the useful ones.
            var cause = e is InvalidOperationException { InnerException: { } provider } ? provider : e;
            return new Finding(Verdict.Fail, "database", OneLine(cause.InnerException is { } inner ? $"{cause.Message}: {inner.Message}" : cause.Message));
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

    private static Finding CheckSigningKeys(SigningKeyStore store)
    {
        if (!Directory.Exists(store.Folder))
        {
            return new Finding(Verdict.Warn, "signing keys", $"{store.Folder} does not exist yet (the first start creates it and a key)");
        }

        try
        {
            var count = store.Keys().Count;
            const UnixFileMode Shared = UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            return !OperatingSystem.IsWindows() && (File.GetUnixFileMode(store.Folder) & Shared) != 0
                ? new Finding(Verdict.Warn, "signing keys", $"{count} key(s) in {store.Folder}, but the folder is readable by other users (chmod 700 it)")
                : new Finding(Verdict.Ok, "signing keys", $"{count} key(s) in {store.Folder}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            return new Finding(Verdict.Fail, "signing keys", $"{store.Folder}: {OneLine(e.Message)}");
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
