namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// A private redis-server on a free loopback port, for one test class (tests may stop and start it to play an
/// outage). A missing redis-server fails the tests, never skips them (./test.sh installs it).
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-redis-" + Guid.NewGuid().ToString("N")[..12]);

    public int Port { get; } = PostgresServer.FreePort();

    /// <summary>What <c>Groundwork:Redis</c> is set to.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        await StartAsync();
    }

    public async Task StartAsync()
    {
        await Cli.RunAsync("redis-server", $"--port {Port} --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir {_folder} --pidfile {_folder}/redis.pid");
        if (!await Cli.UntilAsync(AnswersAsync, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50)))
        {
            throw new InvalidOperationException($"redis-server did not answer on port {Port}");
        }
    }

    /// <summary>
    /// Stops the server (an outage); <see cref="StartAsync"/> brings it back, empty. A server still answering after
    /// SHUTDOWN is killed, so an outage test never runs against a live one.
    /// </summary>
    public async Task StopAsync()
    {
        await Cli.RunAsync("redis-cli", $"-p {Port} shutdown nosave", check: false, TimeSpan.FromSeconds(30));
        if (await Cli.UntilAsync(IsSilentAsync, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50)))
        {
            return;
        }

        var pidFile = Path.Combine(_folder, "redis.pid");
        if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            await Cli.SignalAsync("KILL", pid, wholeGroup: false);
        }

        if (!await Cli.UntilAsync(IsSilentAsync, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50)))
        {
            throw new InvalidOperationException($"redis-server on port {Port} did not stop");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> AnswersAsync() =>
        (await Cli.RunAsync("redis-cli", $"-p {Port} ping", check: false, TimeSpan.FromSeconds(10))).Contains("PONG", StringComparison.Ordinal);

    private async Task<bool> IsSilentAsync() => !await AnswersAsync();
}
