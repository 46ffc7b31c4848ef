using System.Diagnostics;

namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// The real executable as its own process on PostgreSQL (reliability tests kill it with SIGKILL). Several can
/// share one database and one keys folder, like nodes behind a load balancer.
/// </summary>
/// <param name="port">A restarted node listens where the old one did; by default a free port.</param>
public sealed class ServerProcess(string folder, string connectionString, IReadOnlyDictionary<string, string>? settings = null, int? port = null) : IDisposable
{
    private Process? _process;

    public int Port { get; } = port ?? PostgresServer.FreePort();

    public Uri Address => new($"http://127.0.0.1:{Port}");

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();

    /// <summary>The server's last 200 lines of output (for failure messages).</summary>
    public string Log => string.Join('\n', _log);

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > 200 && _log.TryDequeue(out _))
        {
        }
    }

    private ProcessStartInfo StartInfo(string args)
    {
        var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "groundwork.dll")}\" {args}")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["Groundwork__Database__Provider"] = "postgres",
            ["ConnectionStrings__Database"] = connectionString,
            ["Groundwork__Auth__KeysPath"] = Path.Combine(folder, "keys"),
            ["Groundwork__Auth__BcryptWorkFactor"] = "4",
            ["Groundwork__RateLimits__Default"] = "1000000",
            ["Groundwork__RateLimits__Transfers"] = "1000000",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Urls"] = Address.ToString(),
            ["Groundwork__Urls__Grpc"] = "",
            ["Groundwork__Shutdown__Drain"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }

    /// <summary>Runs an admin command (e.g. <c>create-admin</c>) to completion and returns its exit code.</summary>
    public async Task<int> RunCommandAsync(string args, IReadOnlyDictionary<string, string>? environment = null) =>
        (await RunCommandWithOutputAsync(args, environment)).Code;

    /// <summary>Runs an admin command to completion: its exit code, standard output and standard error.</summary>
    public async Task<(int Code, string Out, string Err)> RunCommandWithOutputAsync(string args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = StartInfo(args);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"groundwork {args} did not finish in 3 minutes");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Starts the server and waits until <c>/health/ready</c> answers (at most a minute).</summary>
    public async Task StartAsync()
    {
        _process = Process.Start(StartInfo(""))!;
        _process.OutputDataReceived += (_, e) => Remember(e.Data);
        _process.ErrorDataReceived += (_, e) => Remember(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await probe.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("server did not become ready");
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stops a node: sent now; graceful shutdown runs (flushes included) and the task
    /// completes with the exit code when the process has exited.
    /// </summary>
    public Task<int> TerminateAsync()
    {
        var process = _process ?? throw new InvalidOperationException("not running");
        using (var term = Process.Start("kill", $"-TERM {process.Id}")!)
        {
            term.WaitForExit();
        }

        return WaitForExitAsync(process);
    }

    private async Task<int> WaitForExitAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        var code = process.ExitCode;
        process.Dispose();
        _process = null;
        return code;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush, connections dropped mid-transaction.</summary>
    public void Kill()
    {
        _process?.Kill(entireProcessTree: true);
        _process?.WaitForExit(10_000);
        _process?.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();
}
