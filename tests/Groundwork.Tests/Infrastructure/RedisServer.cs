using System.Diagnostics;

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
        await Run("redis-server", $"--port {Port} --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir {_folder} --pidfile {_folder}/redis.pid");
        if (!await AnswersWithinAsync(expected: true, TimeSpan.FromSeconds(60)))
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
        await Run("redis-cli", $"-p {Port} shutdown nosave", check: false);
        if (await AnswersWithinAsync(expected: false, TimeSpan.FromSeconds(30)))
        {
            return;
        }

        var pidFile = Path.Combine(_folder, "redis.pid");
        if (File.Exists(pidFile))
        {
            await Run("sh", $"-c \"kill -KILL {(await File.ReadAllTextAsync(pidFile)).Trim()}\"", check: false);
        }

        if (!await AnswersWithinAsync(expected: false, TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"redis-server on port {Port} did not stop");
        }
    }

    /// <summary>Waits until PING's answer is (or is not) PONG; a deadline that ends as soon as it is.</summary>
    private async Task<bool> AnswersWithinAsync(bool expected, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while ((await Run("redis-cli", $"-p {Port} ping", check: false)).Contains("PONG", StringComparison.Ordinal) != expected)
        {
            if (DateTime.UtcNow >= until)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
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

    private static async Task<string> Run(string file, string arguments, bool check = true)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} not found; run ./test.sh (it installs redis-server) or apt-get install redis-server", e);
        }

        using (process)
        {
            var output = await process.StandardOutput.ReadToEndAsync();
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (check && process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{file} {arguments} failed: {error}");
            }

            return output + error;
        }
    }
}
