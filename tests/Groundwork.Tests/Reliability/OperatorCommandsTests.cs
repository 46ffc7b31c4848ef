using System.Net.Http.Json;
using Groundwork.Tests.Infrastructure;
using Npgsql;

namespace Groundwork.Tests.Reliability;

/// <summary>The admin commands as operators run them against several nodes of one deployment.</summary>
public sealed class OperatorCommandsTests(PostgresServer postgres) : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-ops-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<ServerProcess> _nodes = [];

    [Fact]
    public async Task Migrate_run_from_four_nodes_at_once_applies_each_migration_once_and_all_succeed()
    {
        Directory.CreateDirectory(_folder);
        var database = await postgres.CreateDatabaseAsync();
        var runs = Enumerable.Range(0, 4).Select(_ => new ServerProcess(_folder, database).RunCommandAsync("migrate")).ToList();
        Assert.All(await Task.WhenAll(runs), code => Assert.Equal(0, code));

        await using var db = new NpgsqlConnection(database);
        await db.OpenAsync(TestContext.Current.CancellationToken);
        await using var history = new NpgsqlCommand("""SELECT count(*), count(DISTINCT migration_id) FROM "__EFMigrationsHistory" """, db);
        await using var reader = await history.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
        var (rows, distinct) = (reader.GetInt64(0), reader.GetInt64(1));
        var migrations = typeof(Program).Assembly.GetTypes()
            .Count(t => t.Namespace == "Groundwork.Platform.Persistence.Migrations.Postgres" && t.GetCustomAttributes(typeof(Microsoft.EntityFrameworkCore.Migrations.MigrationAttribute), false).Length > 0);
        Assert.Equal(migrations, rows);
        Assert.Equal(rows, distinct);
    }

    [Fact]
    public async Task A_key_added_by_rotate_signing_key_signs_on_every_running_node_and_verifies_on_the_others()
    {
        Directory.CreateDirectory(_folder);
        var database = await postgres.CreateDatabaseAsync();
        // Two nodes sharing the database and the keys folder (a shared volume, or a mounted secret).
        for (var i = 0; i < 2; i++)
        {
            // Signing in is how the test sees which key signs: lift the sign-in limits.
            var node = new ServerProcess(_folder, database, new Dictionary<string, string>
            {
                ["Groundwork__RateLimits__LoginPerIp"] = "100000",
                ["Groundwork__RateLimits__LoginPerAccount"] = "100000",
            });
            _nodes.Add(node);
            await node.StartAsync();
        }

        Assert.Equal(0, await _nodes[0].RunCommandAsync("create-admin --email admin@ops.test --name Admin",
            new Dictionary<string, string> { ["GROUNDWORK_ADMIN_PASSWORD"] = "ops-test-password" }));
        var oldKid = KeyId(await LoginAsync(_nodes[0]));

        Assert.Equal(0, await _nodes[1].RunCommandAsync("rotate-signing-key"));
        var newKid = Directory.GetFiles(Path.Combine(_folder, "keys"), "*.pem").Select(Path.GetFileNameWithoutExtension).Max(StringComparer.Ordinal)!;
        Assert.NotEqual(oldKid, newKid);

        // No restart: each node rescans the folder (every 5 s) and signs with the newest key.
        foreach (var node in _nodes)
        {
            string? kid = null;
            for (var attempt = 0; attempt < 120 && kid != newKid; attempt++)
            {
                kid = KeyId(await LoginAsync(node));
                if (kid != newKid)
                {
                    await Task.Delay(250, TestContext.Current.CancellationToken);
                }
            }

            Assert.Equal(newKid, kid);
        }

        // A token signed on one node with the new key works on the other; both keys are published for verifiers.
        var token = await LoginAsync(_nodes[0]);
        using var other = new HttpClient { BaseAddress = _nodes[1].Address };
        other.DefaultRequestHeaders.Authorization = new("Bearer", token);
        await (await other.GetAsync("/api/v1/auth/me", TestContext.Current.CancellationToken)).AssertStatus(200);
        var jwks = await (await other.GetAsync("/.well-known/jwks.json", TestContext.Current.CancellationToken)).JsonBody();
        var kids = jwks["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
        Assert.Contains(oldKid, kids);
        Assert.Contains(newKid, kids);
    }

    [Fact]
    public async Task Doctor_prints_one_line_per_check_and_fails_on_an_unreachable_dependency_without_leaking_secrets()
    {
        Directory.CreateDirectory(_folder);
        var database = await postgres.CreateDatabaseAsync();
        var node = new ServerProcess(_folder, database);
        Assert.Equal(0, await node.RunCommandAsync("migrate"));
        Assert.Equal(0, await node.RunCommandAsync("rotate-signing-key"));

        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        var healthy = await node.RunCommandWithOutputAsync("doctor", new Dictionary<string, string> { ["Groundwork__Redis"] = redis.Configuration });
        Assert.True(healthy.Code == 0, healthy.Out + healthy.Err);
        var lines = healthy.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.Matches(@"^(ok|warn|FAIL) +[a-z ]+ +\S", line));
        Assert.Contains(lines, line => line.StartsWith("ok    database", StringComparison.Ordinal) && line.Contains("up to date", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("ok    signing keys", StringComparison.Ordinal) && line.Contains("1 key(s)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("ok    redis", StringComparison.Ordinal) && line.Contains("PING", StringComparison.Ordinal));
        // PostgreSQL without RabbitMQ: fine for one node, said once as a warning.
        Assert.Contains(lines, line => line.StartsWith("warn  topology", StringComparison.Ordinal) && line.Contains("no RabbitMQ", StringComparison.Ordinal));
        Assert.Equal("", healthy.Err);

        // Nothing listens on the Redis port nor on the database's: two failures, one line each, and the password in
        // the connection string is not repeated.
        var builder = new NpgsqlConnectionStringBuilder(database) { Port = PostgresServer.FreePort(), Password = "wrong-s3cret" };
        var broken = await node.RunCommandWithOutputAsync("doctor", new Dictionary<string, string>
        {
            ["Groundwork__Redis"] = $"127.0.0.1:{PostgresServer.FreePort()}",
            ["ConnectionStrings__Database"] = builder.ConnectionString,
        });
        Assert.Equal(1, broken.Code);
        Assert.Contains(broken.Out.Split('\n'), line => line.StartsWith("FAIL  redis", StringComparison.Ordinal) && line.Contains("unreachable", StringComparison.Ordinal));
        Assert.Contains(broken.Out.Split('\n'), line => line.StartsWith("FAIL  database", StringComparison.Ordinal) && line.Contains($"Failed to connect to 127.0.0.1:{builder.Port}", StringComparison.Ordinal));
        Assert.DoesNotContain("wrong-s3cret", broken.Out + broken.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_admin_with_Redis_makes_the_cached_user_totals_stale_and_leaves_no_cache_repair_record()
    {
        Directory.CreateDirectory(_folder);
        var database = await postgres.CreateDatabaseAsync();
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        var node = new ServerProcess(_folder, database);

        var created = await node.RunCommandWithOutputAsync("create-admin --email admin@ops.test --name Admin", new Dictionary<string, string>
        {
            ["GROUNDWORK_ADMIN_PASSWORD"] = "ops-test-password",
            ["Groundwork__Redis"] = redis.Configuration,
        });

        Assert.True(created.Code == 0, created.Out + created.Err);
        // The users list's generation was bumped (it did not exist before: started, then incremented).
        Assert.Matches("^[0-9]+$", await Caching.RedisReady.CliAsync(redis, "GET", "gw:g:{users}"));
        await using var db = new NpgsqlConnection(database);
        await db.OpenAsync(TestContext.Current.CancellationToken);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM cache_repairs", db);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
        await using var admins = new NpgsqlCommand("SELECT count(*) FROM users WHERE role = 'admin'", db);
        Assert.Equal(1L, (long)(await admins.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
    }

    private static async Task<string> LoginAsync(ServerProcess node)
    {
        using var http = new HttpClient { BaseAddress = node.Address };
        var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@ops.test", password = "ops-test-password" })).AssertStatus(200);
        return login["accessToken"]!.GetValue<string>();
    }

    private static string KeyId(string token) => new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Kid;

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
