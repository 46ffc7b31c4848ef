using System.Diagnostics;
using System.Net.Http.Json;
using Groundwork.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Groundwork.Tests.Platform;

/// <summary>The executable itself: admin commands and start-up refusal of bad configuration.</summary>
public sealed class CliAndConfigurationTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-cli-" + Guid.NewGuid().ToString("N")[..10]);

    public CliAndConfigurationTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Db => Path.Combine(_folder, "cli.db");

    private string Keys => Path.Combine(_folder, "keys");

    private async Task<(int Code, string Out, string Err)> Run(string args, string? stdin = null, Dictionary<string, string>? env = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "groundwork.dll");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" {args}")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        info.Environment["ConnectionStrings__Database"] = $"Data Source={Db}";
        info.Environment["Groundwork__Auth__KeysPath"] = Keys;
        info.Environment["Groundwork__Auth__BcryptWorkFactor"] = "4";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        info.Environment.Remove("GROUNDWORK_ADMIN_PASSWORD");
        foreach (var (key, value) in env ?? [])
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteLineAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task A_first_start_in_Development_logs_readable_lines_and_no_errors_and_the_root_points_to_the_docs()
    {
        var port = PostgresServer.FreePort();
        var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "groundwork.dll")}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["ConnectionStrings__Database"] = $"Data Source={Db}";
        info.Environment["Groundwork__Auth__KeysPath"] = Keys;
        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["Groundwork__Urls__Grpc"] = "";
        foreach (var inherited in new[] { "Logging__LogLevel__Default", "Logging__LogLevel__Microsoft.EntityFrameworkCore" })
        {
            info.Environment.Remove(inherited);
        }

        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            HttpResponseMessage? root = null;
            for (var attempt = 0; attempt < 600 && root is null; attempt++)
            {
                try
                {
                    root = await client.GetAsync("/");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100);
                }
            }

            Assert.NotNull(root);
            Assert.Equal(System.Net.HttpStatusCode.Redirect, root.StatusCode);
            Assert.Equal("/docs", root.Headers.Location!.OriginalString);

            // The hint is written beside the start, not before it: wait for it (bounded by time, ending when it shows).
            await Cli.UntilAsync(() => Task.FromResult(lines.Any(l => l.Contains("No admin exists yet", StringComparison.Ordinal))), TimeSpan.FromSeconds(60));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        var output = lines.ToList();
        Assert.Contains(output, l => l.Contains("No admin exists yet", StringComparison.Ordinal));
        Assert.DoesNotContain(output, l => l.Contains(" fail:", StringComparison.Ordinal) || l.Contains(" crit:", StringComparison.Ordinal));
        // One readable line per event: "HH:mm:ss level: category[id] message", no JSON, no EF command chatter.
        Assert.All(output.Where(l => l.Length > 0), l => Assert.Matches(@"^\d\d:\d\d:\d\d (info|warn|dbug|trce): ", l));
        Assert.DoesNotContain(output, l => l.Contains("Executed DbCommand", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Benchmark", true)]
    [InlineData("benchmark", true)]
    [InlineData("Testing", true)]
    [InlineData("Development", false)]
    [InlineData("Staging", false)]
    [InlineData("Production", false)]
    public void The_benchmark_baselines_may_be_turned_on_only_in_the_Benchmark_and_Testing_environments(string environment, bool allowed)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Groundwork:Bench:Enabled"] = "true" }).Build();

        var loaded = Record.Exception(() => Groundwork.Platform.Configuration.GroundworkSettings.Load(configuration, environment));

        if (allowed)
        {
            Assert.Null(loaded);
            Assert.True(Groundwork.Platform.Configuration.GroundworkSettings.Load(configuration, environment).BenchEndpoints);
        }
        else
        {
            Assert.Equal("Groundwork:Bench:Enabled", Assert.IsType<Groundwork.Platform.Configuration.ConfigurationException>(loaded).Key);
        }
    }

    [Theory]
    [InlineData("Groundwork:Messaging:BatchWindow", "1.00:00:00", false)]
    [InlineData("Groundwork:Messaging:BatchWindow", "00:00:10", true)]
    [InlineData("Groundwork:Messaging:ConsumerBatchWindow", "00:01:00.001", false)]
    [InlineData("Groundwork:Messaging:ConsumerBatchWindow", "00:01:00", true)]
    [InlineData("Groundwork:Messaging:PublishTimeout", "00:00:00.500", false)]
    [InlineData("Groundwork:Messaging:PublishTimeout", "00:10:01", false)]
    [InlineData("Groundwork:Messaging:PublishTimeout", "00:00:01", true)]
    [InlineData("Groundwork:Cache:RepairAfter", "00:00:01", false)]
    [InlineData("Groundwork:Cache:RepairAfter", "00:00:02", true)]
    public void Time_settings_outside_their_range_are_refused_naming_the_key(string key, string value, bool allowed)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();

        var loaded = Record.Exception(() => Groundwork.Platform.Configuration.GroundworkSettings.Load(configuration, "Testing"));

        if (allowed)
        {
            Assert.Null(loaded);
        }
        else
        {
            var refused = Assert.IsType<Groundwork.Platform.Configuration.ConfigurationException>(loaded);
            Assert.Equal(key, refused.Key);
            Assert.Contains("must be at", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_address_that_cannot_be_listened_on_fails_the_start_with_exit_code_1_and_no_crash()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, PostgresServer.FreePort());
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        // A port in use, and an address that is not this machine's (a documentation address).
        foreach (var (url, says) in new[] { ($"http://127.0.0.1:{port}", $"127.0.0.1:{port}"), ($"http://203.0.113.7:{PostgresServer.FreePort()}", "Could not start") })
        {
            var (code, output, err) = await Run("", env: new()
            {
                ["Urls"] = url,
                ["Groundwork__Urls__Grpc"] = $"http://127.0.0.1:{PostgresServer.FreePort()}",
                ["Logging__LogLevel__Default"] = "Information",
            });

            // Not 134 (the runtime's abort on an unhandled exception), and no background service reported as failed.
            Assert.Equal(1, code);
            Assert.Contains(says, err, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", err, StringComparison.Ordinal);
            Assert.DoesNotContain("BackgroundService failed", output + err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Invalid_configuration_fails_the_start_with_one_line_naming_the_key()
    {
        var (code, _, err) = await Run("", env: new() { ["Groundwork__Database__Provider"] = "mysql" });
        Assert.Equal(2, code);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("Groundwork:Database:Provider", lines[0], StringComparison.Ordinal);

        var (code2, _, err2) = await Run("", env: new() { ["Groundwork__Auth__AccessTokenLifetime"] = "soon" });
        Assert.Equal(2, code2);
        Assert.Contains("Groundwork:Auth:AccessTokenLifetime", err2, StringComparison.Ordinal);

        var (code3, _, err3) = await Run("", env: new() { ["Groundwork__Database__Provider"] = "postgres", ["ConnectionStrings__Database"] = "" });
        Assert.Equal(2, code3);
        Assert.Contains("ConnectionStrings:Database", err3, StringComparison.Ordinal);

        var (code4, _, err4) = await Run("", env: new() { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Groundwork__Bench__Enabled"] = "true", ["Groundwork__Auth__BcryptWorkFactor"] = "12" });
        Assert.Equal(2, code4);
        Assert.Contains("Groundwork:Bench:Enabled", err4, StringComparison.Ordinal);

        // Nor on a developer's or a staging node: behind a proxy on the same host, every caller looks like loopback.
        foreach (var environment in new[] { "Development", "Staging" })
        {
            var (benchCode, _, benchError) = await Run("", env: new() { ["ASPNETCORE_ENVIRONMENT"] = environment, ["Groundwork__Bench__Enabled"] = "true" });
            Assert.Equal(2, benchCode);
            Assert.Contains("Groundwork:Bench:Enabled may be set only in the Benchmark or Testing environment", benchError, StringComparison.Ordinal);
        }

        var (code5, _, err5) = await Run("", env: new() { ["Groundwork__Messaging__Broker"] = "rabbitmq" });
        Assert.Equal(2, code5);
        Assert.Contains("Groundwork:Messaging:RabbitMq:Uri", err5, StringComparison.Ordinal);

        // A malformed URI is named, its content (a password, usually) is not repeated.
        var (code6, _, err6) = await Run("", env: new() { ["Groundwork__Messaging__Broker"] = "rabbitmq", ["Groundwork__Messaging__RabbitMq__Uri"] = "http://u:s3cret-pw@host" });
        Assert.Equal(2, code6);
        Assert.Contains("Groundwork:Messaging:RabbitMq:Uri", err6, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", err6, StringComparison.Ordinal);
        var (code6b, _, err6b) = await Run("", env: new() { ["Groundwork__Observability__OtlpEndpoint"] = "ftp://u:s3cret-pw@collector" });
        Assert.Equal(2, code6b);
        Assert.Contains("Groundwork:Observability:OtlpEndpoint", err6b, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", err6b, StringComparison.Ordinal);

        var (code7, _, err7) = await Run("", env: new() { ["Groundwork__Messaging__Retention"] = "01:00:00" });
        Assert.Equal(2, code7);
        Assert.Contains("Groundwork:Messaging:Retention", err7, StringComparison.Ordinal);

        // A connection string that does not parse: one line, for the service and for doctor alike, no password in it.
        foreach (var command in new[] { "", "doctor" })
        {
            var (code8, out8, err8) = await Run(command, env: new() { ["Groundwork__Database__Provider"] = "postgres", ["ConnectionStrings__Database"] = "Host=db;Password=Hunter2;SecretTail99;Database=g" });
            Assert.Equal(2, code8);
            Assert.Single(err8.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("ConnectionStrings:Database", err8, StringComparison.Ordinal);
            Assert.DoesNotContain("Hunter2", out8 + err8, StringComparison.Ordinal);
            Assert.DoesNotContain("SecretTail99", out8 + err8, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Create_admin_migrate_and_rotate_signing_key_work_and_the_admin_can_sign_in()
    {
        var migrate = await Run("migrate");
        Assert.True(migrate.Code == 0, migrate.Err);
        Assert.Contains("migrated", migrate.Out, StringComparison.OrdinalIgnoreCase);

        var missing = await Run("create-admin --email admin@example.com");
        Assert.Equal(64, missing.Code);

        var weak = await Run("create-admin --email admin@example.com --name Admin", stdin: "short");
        Assert.Equal(65, weak.Code);
        Assert.Contains("Password", weak.Err, StringComparison.Ordinal);

        var fromStdin = await Run("create-admin --email admin@example.com --name Admin", stdin: "admin-password-1");
        Assert.True(fromStdin.Code == 0, fromStdin.Err);
        Assert.DoesNotContain("admin-password-1", fromStdin.Out + fromStdin.Err, StringComparison.Ordinal);

        var fromEnv = await Run("create-admin --email=second@example.com --name=Second", env: new() { ["GROUNDWORK_ADMIN_PASSWORD"] = "admin-password-2" });
        Assert.True(fromEnv.Code == 0, fromEnv.Err);

        var duplicate = await Run("create-admin --email ADMIN@example.com --name Again", stdin: "admin-password-3");
        Assert.Equal(65, duplicate.Code);

        var before = Directory.Exists(Keys) ? Directory.GetFiles(Keys, "*.pem").Length : 0;
        var rotate = await Run("rotate-signing-key");
        Assert.True(rotate.Code == 0, rotate.Err);
        Assert.Equal(before + 1, Directory.GetFiles(Keys, "*.pem").Length);

        await using var app = new ExistingDatabaseApp(Db, Keys);
        await app.InitializeAsync();
        var client = app.CreateClient();
        var login = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@example.com", password = "admin-password-1" })).AssertStatus(200);
        client.DefaultRequestHeaders.Authorization = new("Bearer", login["accessToken"]!.GetValue<string>());
        var me = await (await client.GetAsync("/api/v1/auth/me")).AssertStatus(200);
        Assert.Equal("admin", me["data"]!["role"]!.GetValue<string>());
        await (await client.GetAsync("/api/v1/users?limit=10")).AssertStatus(200);
    }

    private sealed class ExistingDatabaseApp(string db, string keys) : GroundworkApp
    {
        public override Provider Provider => Provider.Sqlite;

        protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={db}");

        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Groundwork:Auth:KeysPath"] = keys,
        };
    }
}
