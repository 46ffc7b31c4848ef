using System.Diagnostics;

namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// Command-line tools and waits for the tests (the Redis and RabbitMQ fixtures among them). Every wait is bounded by a time limit that
/// ends as soon as the condition holds, so a fast machine waits less and a slow one is not failed early; and a tool
/// that hangs (a CLI asking a node that never answers) is killed instead of hanging the test run.
/// </summary>
internal static class Cli
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromMinutes(2);

    /// <summary>Runs a tool and returns its output and error text; with <paramref name="check"/>, a non-zero exit throws.</summary>
    public static async Task<string> RunAsync(string file, string arguments, bool check = true, TimeSpan? limit = null, Action<ProcessStartInfo>? configure = null)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        configure?.Invoke(info);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} not found; run ./test.sh (it installs the servers the tests need)", e);
        }

        using (process)
        {
            var within = limit ?? DefaultLimit;
            using var timeout = new CancellationTokenSource(within);
            var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                return $"{file} {arguments} gave no answer within {within}";
            }

            if (check && process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{file} {arguments} failed: {await error}");
            }

            return await output + await error;
        }
    }

    /// <summary>Asks <paramref name="condition"/> every <paramref name="every"/> until it holds (true) or <paramref name="limit"/> has passed (false).</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan limit, TimeSpan? every = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed >= limit)
            {
                return false;
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }

        return true;
    }

    /// <summary>
    /// Sends a signal through the shell's kill (.NET can send only SIGKILL, and only to one process). A negative
    /// target, <c>-{pid}</c>, is the whole process group whose leader is <paramref name="pid"/>. Refuses pids 0 and 1
    /// and this process's own group, which a corrupt pid file could otherwise name.
    /// </summary>
    public static async Task<string> SignalAsync(string signal, int pid, bool wholeGroup)
    {
        if (pid <= 1 || (wholeGroup && pid == OwnProcessGroup()))
        {
            return $"refused to signal pid {pid}";
        }

        return await RunAsync("sh", $"-c \"kill -{signal} {(wholeGroup ? "-" : "")}{pid}\"", check: false, TimeSpan.FromSeconds(10));
    }

    /// <summary>This process's group: /proc/self/stat's fifth field (the first four are pid, name, state, parent).</summary>
    private static int OwnProcessGroup()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var afterName = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(afterName[2], System.Globalization.CultureInfo.InvariantCulture);
    }
}
