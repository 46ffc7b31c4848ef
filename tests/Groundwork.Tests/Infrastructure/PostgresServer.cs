using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// A private PostgreSQL for the whole test run: initdb into a temp folder, started on a free loopback port,
/// removed afterwards. Each app fixture gets its own database on it. A missing PostgreSQL fails the tests,
/// never skips them (./test.sh installs it).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "gw-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private string _bin = "";
    private int _databases;

    public int Port { get; private set; }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=30;Include Error Detail=true";

    public async ValueTask InitializeAsync()
    {
        _bin = FindBin() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; run ./test.sh (it installs them) or apt-get install postgresql");
        Port = FreePort();
        Directory.CreateDirectory(_root);
        Chown(_root);
        await Run("initdb", $"-D {_root}/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8");
        await Run("pg_ctl", $"-D {_root}/data -l {_root}/log -w -t 60 -o \"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 " +
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400\" start");
    }

    /// <summary>A new empty database for one app fixture.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"gw_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_bin.Length > 0 && Directory.Exists(Path.Combine(_root, "data")))
        {
            try
            {
                await Run("pg_ctl", $"-D {_root}/data -m immediate -w stop");
            }
            catch (InvalidOperationException)
            {
                // Already down; the folder still goes.
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string? FindBin() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;

    private static bool IsRoot => Environment.UserName == "root";

    private static void Chown(string path)
    {
        if (IsRoot)
        {
            using var p = Process.Start("chown", ["-R", "postgres:postgres", path]);
            p.WaitForExit();
        }
    }

    /// <summary>initdb refuses root, so as root the tools run as the postgres user.</summary>
    private async Task Run(string tool, string arguments)
    {
        var exe = Path.Combine(_bin, tool);
        var info = IsRoot
            ? new ProcessStartInfo("runuser", $"-u postgres -- {exe} {arguments}")
            : new ProcessStartInfo(exe, arguments);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.WorkingDirectory = "/tmp";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {await stderr} {await stdout}");
        }
    }

    private static readonly Lock PortsGate = new();
    private static readonly HashSet<int> PortsHandedOut = [];

    /// <summary>
    /// A loopback port nothing listens on, for a server a test is about to start. It is picked below the kernel's
    /// ephemeral range when there is room: a port from that range (what binding port 0 returns) can be taken, before
    /// the server binds it, as the source port of any outgoing connection, and the tests open thousands. No port
    /// is handed out twice in one test run.
    /// </summary>
    public static int FreePort()
    {
        var ephemeralStart = EphemeralRangeStart();
        lock (PortsGate)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = ephemeralStart > 11_000 ? Random.Shared.Next(10_000, ephemeralStart) : AnyPort();
                if (PortsHandedOut.Contains(port) || !CanListen(port))
                {
                    continue;
                }

                PortsHandedOut.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException("No free loopback port found");
    }

    private static int EphemeralRangeStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    private static int AnyPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanListen(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
