using System.Diagnostics;
using System.Net.Http.Json;

namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// Two nodes on PostgreSQL + Redis + RabbitMQ behind nginx, started by <c>deploy/local-cluster.sh</c> itself (the
/// script users run), with the test build of the service. Ports come from the cluster's state file.
/// </summary>
public sealed class LocalCluster : IAsyncLifetime
{
    public const string AdminEmail = "admin@cluster.test";
    public const string AdminPassword = "cluster-admin-password";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-cluster-" + Guid.NewGuid().ToString("N")[..8]);
    private Dictionary<string, string> _state = [];

    /// <summary>nginx, in front of every node.</summary>
    public Uri Address => new($"http://127.0.0.1:{_state["HTTP_PORT"]}");

    public Uri Node(int index) => new($"http://127.0.0.1:{_state[$"NODE{index}_PORT"]}");

    public Uri Metrics(int index) => new($"http://127.0.0.1:{_state[$"NODE{index}_METRICS"]}");

    public string Database => $"Host=127.0.0.1;Port={_state["PG_PORT"]};Username=postgres;Password={_state["PG_PASSWORD"]};Database=groundwork";

    public async ValueTask InitializeAsync()
    {
        // `up` stops what it started when it fails; `down` here covers a run the timeout cut short.
        var (code, output) = await RunAsync("up", "2");
        if (code != 0)
        {
            await RunAsync("down");
            throw new InvalidOperationException($"local-cluster.sh up failed ({code}): {output}");
        }

        _state = File.ReadAllLines(Path.Combine(_folder, "cluster.env"))
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .GroupBy(parts => parts[0])
            .ToDictionary(g => g.Key, g => g.Last()[1]);

        var (adminCode, adminOutput) = await RunAsync("admin", AdminEmail, "Admin");
        if (adminCode != 0)
        {
            throw new InvalidOperationException($"local-cluster.sh admin failed: {adminOutput}");
        }
    }

    public async Task KillNodeAsync(int index) => await CheckedAsync("kill-node", index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task StartNodeAsync(int index) => await CheckedAsync("start-node", index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A client signed in as the cluster's admin, talking to <paramref name="address"/>.</summary>
    public async Task<HttpClient> AdminClientAsync(Uri address, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = AdminEmail, password = AdminPassword });
        if (response.StatusCode != System.Net.HttpStatusCode.OK)
        {
            // nginx's own reason for a 502 and what the nodes logged: a refusal here is otherwise unexplained.
            Assert.Fail($"Sign-in through {address} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{Diagnostics()}");
        }

        var login = await response.JsonBody();
        client.DefaultRequestHeaders.Authorization = new("Bearer", login["accessToken"]!.GetValue<string>());
        return client;
    }

    /// <summary>The last lines of nginx's error log and of each node's log.</summary>
    public string Diagnostics()
    {
        var text = new System.Text.StringBuilder();
        foreach (var file in new[] { Path.Combine(_folder, "nginx", "logs", "error.log") }.Concat(Directory.Exists(_folder) ? Directory.GetFiles(_folder, "node*.log") : []))
        {
            if (File.Exists(file))
            {
                text.Append("--- ").AppendLine(Path.GetFileName(file));
                foreach (var line in File.ReadLines(file).TakeLast(15))
                {
                    text.AppendLine(line.Length > 400 ? line[..400] : line);
                }
            }
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("down");
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task CheckedAsync(params string[] args)
    {
        var (code, output) = await RunAsync(args);
        if (code != 0)
        {
            throw new InvalidOperationException($"local-cluster.sh {string.Join(' ', args)} failed: {output}");
        }
    }

    private async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("bash", [RepoFiles.PathOf("deploy", "local-cluster.sh"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["GROUNDWORK_CLUSTER_DIR"] = _folder;
        info.Environment["GROUNDWORK_APP"] = Path.Combine(AppContext.BaseDirectory, "groundwork.dll");
        info.Environment["GROUNDWORK_ADMIN_PASSWORD"] = AdminPassword;
        // Generous limits, except sign-ups: two a minute (one token back every 30 s, far longer than the test).
        info.Environment["GROUNDWORK_NODE_ENV"] = "Groundwork__RateLimits__Default=1000000 Groundwork__RateLimits__Transfers=1000000 " +
            "Groundwork__RateLimits__LoginPerIp=100000 Groundwork__RateLimits__LoginPerAccount=100000 Groundwork__RateLimits__RegisterPerIp=2 " +
            "Groundwork__Auth__BcryptWorkFactor=4 ASPNETCORE_ENVIRONMENT=Testing";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out after 5 minutes");
        }

        return (process.ExitCode, await output + await error);
    }
}
