using System.Diagnostics;
using System.Net.Sockets;

namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// A private RabbitMQ node on free loopback ports, for one test class; tests may stop and start it (same data
/// folder, so durable exchanges and queues survive) to play an outage. A missing rabbitmq-server fails the tests,
/// never skips them (./test.sh installs it).
/// </summary>
public sealed class RabbitMqServer : IAsyncLifetime
{
    // The Debian package's own scripts, not the /usr/sbin wrappers: those switch to the rabbitmq user, whose Erlang
    // cookie is not this node's. Older packages keep them under lib/rabbitmq_server-*/sbin.
    private static readonly string Bin = new[] { "/usr/lib/rabbitmq/bin" }
        .Concat(Directory.Exists("/usr/lib/rabbitmq/lib") ? Directory.GetDirectories("/usr/lib/rabbitmq/lib", "rabbitmq_server-*").Select(d => Path.Combine(d, "sbin")) : [])
        .FirstOrDefault(d => File.Exists(Path.Combine(d, "rabbitmq-server"))) ?? "/usr/lib/rabbitmq/bin";

    private static readonly string Server = Path.Combine(Bin, "rabbitmq-server");
    private static readonly string Control = Path.Combine(Bin, "rabbitmqctl");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-rabbit-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly int _distPort = PostgresServer.FreePort();
    private readonly int _epmdPort = PostgresServer.FreePort();

    public int Port { get; } = PostgresServer.FreePort();

    /// <summary>What <c>Groundwork:Messaging:RabbitMq:Uri</c> is set to (the default guest user may connect over loopback).</summary>
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Server))
        {
            throw new InvalidOperationException($"{Server} not found; run ./test.sh (it installs rabbitmq-server) or apt-get install rabbitmq-server");
        }

        Directory.CreateDirectory(Path.Combine(_folder, "home"));
        await File.WriteAllTextAsync(Path.Combine(_folder, "enabled_plugins"), "[].");
        await File.WriteAllTextAsync(Path.Combine(_folder, "rabbitmq.conf"), $"listeners.tcp.default = 127.0.0.1:{Port}\nvm_memory_high_watermark.relative = {MemoryWatermark}\n");
        await File.WriteAllTextAsync(Path.Combine(_folder, "none.conf"), "");
        await StartAsync();
    }

    public async Task StartAsync()
    {
        // Detached (setsid, its own output file): the node must outlive neither more nor less than this fixture wants.
        // $! is the wrapper script's pid. It is also the id of the process group every process of the node runs in:
        // sh -c has no job control, so the background child is no group leader and setsid makes it one without
        // forking. The wrapper turns SIGTERM into a clean stop; the group is what a last-resort SIGKILL takes down.
        var start = new ProcessStartInfo("sh", ["-c", $"setsid {Server} > '{_folder}/server.out' 2>&1 < /dev/null & echo $! > '{WrapperPidFile}'"]);
        Configure(start);
        using (var shell = Process.Start(start)!)
        {
            await shell.WaitForExitAsync();
        }

        // await_startup fails at once while the node is not yet reachable at all: ask again until it answers.
        var answer = "";
        if (await Cli.UntilAsync(
                async () =>
                {
                    answer = await RunAsync(Control, "-q await_startup --timeout 30", TimeSpan.FromSeconds(60));
                    return await IsListeningAsync();
                },
                TimeSpan.FromMinutes(3),
                TimeSpan.FromMilliseconds(250)))
        {
            return;
        }

        var log = File.Exists(Path.Combine(_folder, "server.out")) ? await File.ReadAllTextAsync(Path.Combine(_folder, "server.out")) : "";
        throw new InvalidOperationException($"rabbitmq-server did not start on port {Port}: {answer} {log}");
    }

    /// <summary>
    /// Stops the node (an outage); <see cref="StartAsync"/> brings it back with its durable state. Asks politely first
    /// (rabbitmqctl), then through the wrapper's SIGTERM, then kills its process group: on a loaded machine the CLI
    /// can fail to reach the node at all, and a node left running would fail every later stop and leak a server.
    /// The waits are deadlines, each ending as soon as the port closes.
    /// </summary>
    public async Task StopAsync()
    {
        var answer = await RunAsync(Control, "-q stop", TimeSpan.FromSeconds(90));
        if (!await Cli.UntilAsync(IsSilentAsync, TimeSpan.FromSeconds(60)) && WrapperPid() is { } wrapper)
        {
            answer += await Cli.SignalAsync("TERM", wrapper, wholeGroup: false);
            if (!await Cli.UntilAsync(IsSilentAsync, TimeSpan.FromSeconds(60)))
            {
                answer += await Cli.SignalAsync("KILL", wrapper, wholeGroup: true);
                await Cli.UntilAsync(IsSilentAsync, TimeSpan.FromSeconds(30));
            }
        }

        // epmd refuses to quit while the node is still registered, so only once the node is gone.
        await Cli.UntilAsync(
            async () =>
            {
                var reply = await Cli.RunAsync("epmd", $"-port {_epmdPort} -kill", check: false, TimeSpan.FromSeconds(10), Configure);
                return reply.Contains("Killed", StringComparison.Ordinal) || reply.Contains("Cannot connect", StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(10));

        if (await IsListeningAsync())
        {
            var log = File.Exists(Path.Combine(_folder, "server.out")) ? await File.ReadAllTextAsync(Path.Combine(_folder, "server.out")) : "";
            throw new InvalidOperationException($"rabbitmq-server on port {Port} did not stop: {answer} {log[Math.Max(0, log.Length - 2000)..]}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private void Configure(ProcessStartInfo info)
    {
        var env = info.Environment;
        env["HOME"] = Path.Combine(_folder, "home");
        env["RABBITMQ_NODENAME"] = $"gw{Port}@localhost";
        env["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        env["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["RABBITMQ_DIST_PORT"] = _distPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        env["ERL_EPMD_PORT"] = _epmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["RABBITMQ_MNESIA_BASE"] = Path.Combine(_folder, "mnesia");
        env["RABBITMQ_LOG_BASE"] = Path.Combine(_folder, "log");
        env["RABBITMQ_CONFIG_FILE"] = Path.Combine(_folder, "rabbitmq.conf");
        env["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_folder, "enabled_plugins");
        env["RABBITMQ_PID_FILE"] = Path.Combine(_folder, "rabbit.pid");
        env["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_folder, "none.conf");
        env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
    }

    private string WrapperPidFile => Path.Combine(_folder, "wrapper.pid");

    private int? WrapperPid() =>
        File.Exists(WrapperPidFile) && int.TryParse(File.ReadAllText(WrapperPidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var pid) && pid > 1 ? pid : null;

    private async Task<bool> IsSilentAsync() => !await IsListeningAsync();

    private async Task<bool> IsListeningAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The memory threshold the node is configured with (written to its configuration file).</summary>
    private const string MemoryWatermark = "0.4";

    /// <summary>
    /// Raises (or clears) a memory alarm: with the threshold at 0 the node blocks every publishing connection at once,
    /// as it does when it runs short of memory or disk; clearing restores the configured threshold.
    /// </summary>
    public Task SetMemoryAlarmAsync(bool raised) =>
        Cli.RunAsync(Control, $"-q set_vm_memory_high_watermark {(raised ? "0" : MemoryWatermark)}", check: true, TimeSpan.FromSeconds(60), Configure);

    private Task<string> RunAsync(string file, string arguments, TimeSpan limit) =>
        Cli.RunAsync(file, arguments, check: false, limit, Configure);
}
