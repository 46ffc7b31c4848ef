using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Groundwork.Features.Users;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.Auth;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Infrastructure;

public enum Provider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// One running Groundwork with its own database and signing keys. Test classes share one per class;
/// tests inside a class keep out of each other's way with unique emails.
/// </summary>
public abstract class GroundworkApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-test-" + Guid.NewGuid().ToString("N")[..12]);
    private string _connectionString = "";

    public abstract Provider Provider { get; }

    /// <summary>Settings on top of the defaults; tests of limits set their own.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Groundwork:RateLimits:Default"] = "100000",
        ["Groundwork:RateLimits:LoginPerIp"] = "100000",
        ["Groundwork:RateLimits:RegisterPerIp"] = "100000",
        ["Groundwork:RateLimits:Transfers"] = "100000",
        // Event streams send keep-alives and re-check credentials this often (tests of both need not wait 15 s).
        ["Groundwork:Events:Heartbeat"] = "00:00:00.300",
        // No load balancer to drain from: a test host stops at once.
        ["Groundwork:Shutdown:Drain"] = "0",
    };

    public virtual string KeysPath => Path.Combine(_folder, "keys");

    /// <summary>Every SQL statement this app runs through EF passes through here (statement-count tests); the balance UPDATEs of a money movement go to the connection directly.</summary>
    public SqlStatementCounter Sql { get; } = new();

    /// <summary>
    /// A real Kestrel server on free loopback ports (REST/GraphQL on <see cref="HttpPort"/>, gRPC h2c on
    /// <see cref="GrpcPort"/>) instead of the in-memory TestServer: for gRPC and for outside clients (audits).
    /// </summary>
    protected virtual bool RealServer => false;

    public int HttpPort { get; } = PostgresServer.FreePort();

    public int GrpcPort { get; } = PostgresServer.FreePort();

    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}");

    /// <summary>A gRPC channel to the h2c endpoint (only for <see cref="RealServer"/> apps).</summary>
    public Grpc.Net.Client.GrpcChannel GrpcChannel() => Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{GrpcPort}");

    protected abstract Task<string> CreateDatabaseAsync(string folder);

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _connectionString = await CreateDatabaseAsync(_folder);
        if (RealServer)
        {
            UseKestrel(_ => { });
            StartServer();
            ClientOptions.BaseAddress = HttpAddress;
        }
        else
        {
            _ = Server; // start now, so migrations run before the first test
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Groundwork:Database:Provider", Provider == Provider.Postgres ? "postgres" : "sqlite");
        builder.UseSetting("ConnectionStrings:Database", _connectionString);
        builder.UseSetting("Groundwork:Auth:KeysPath", KeysPath);
        builder.UseSetting("Groundwork:Auth:BcryptWorkFactor", "4");
        builder.UseSetting("Logging:LogLevel:Default", "Error");
        builder.UseSetting("Urls", HttpAddress.ToString());
        builder.UseSetting("Groundwork:Urls:Grpc", RealServer ? $"http://127.0.0.1:{GrpcPort}" : "");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.ConfigureDbContext<Groundwork.Platform.Persistence.SqliteGroundworkDbContext>(o => o.AddInterceptors(Sql));
            services.ConfigureDbContext<Groundwork.Platform.Persistence.PostgresGroundworkDbContext>(o => o.AddInterceptors(Sql));
        });
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public T Service<T>()
        where T : notnull => Services.GetRequiredService<T>();

    /// <summary>
    /// Waits until the server has registered a stream of <paramref name="userId"/> (it holds one of the user's stream
    /// slots once its starting position is fixed), so an event caused next reaches it.
    /// </summary>
    public async Task WaitForStreamOfAsync(Guid userId)
    {
        var limits = Service<Groundwork.Platform.Realtime.StreamLimits>();
        var caller = new Groundwork.Platform.Operations.Caller { UserId = userId };
        var deadline = DateTime.UtcNow + SseClient.Patience;
        while (limits.OpenFor(caller) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the subscription was never registered");
            await Task.Delay(20);
        }
    }

    /// <summary>Runs <paramref name="work"/> with a fresh scope (a DbContext of its own).</summary>
    public async Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    public static string UniqueEmail(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    /// <summary>Creates a user directly in the database (any role), as the CLI does.</summary>
    public Task<User> CreateUserAsync(string email, string name, string password, Role role = Role.User) =>
        WithScopeAsync(async sp =>
        {
            var registration = sp.GetRequiredService<UserRegistration>();
            var hash = await registration.HashPasswordAsync(password, CancellationToken.None);
            var created = (await registration.CreateAsync(email, name, hash, role, CancellationToken.None)).Value;
            await sp.GetRequiredService<GroundworkDbContext>().SaveChangesAsync();
            await sp.GetRequiredService<Groundwork.Platform.Operations.CommitHooks>().RunAfterCommitAsync();
            return created;
        });

    /// <summary>Creates a user directly (any role) and signs in; the way tests get actors.</summary>
    public async Task<Actor> ActorAsync(Role role = Role.User, string? name = null)
    {
        var email = UniqueEmail(role.WireName());
        const string password = "correct-horse-battery";
        var user = await CreateUserAsync(email, name ?? $"Test {role}", password, role);
        var client = CreateClient();
        var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password });
        login.EnsureSuccessStatusCode();
        var tokens = await login.Content.ReadFromJsonAsync<JsonObject>();
        var actor = new Actor(this, user.Id, email, password, tokens!["accessToken"]!.GetValue<string>(), tokens["refreshToken"]!.GetValue<string>());
        return actor;
    }
}

/// <summary>A signed-in user and an HttpClient that carries its token.</summary>
public sealed record Actor(GroundworkApp App, Guid Id, string Email, string Password, string AccessToken, string RefreshToken)
{
    /// <summary>Renames the user (one <c>user.updated</c> event): the event tests' simplest change.</summary>
    public async Task RenameAsync(string name) =>
        await (await Client().PatchAsJsonAsync($"/api/v1/users/{Id}", new { name })).AssertStatus(200);

    public HttpClient Client()
    {
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        return client;
    }
}

/// <summary>An app on its own SQLite file with settings of its own (small limits, caps) over the test defaults.</summary>
public abstract class SqliteAppWith(IReadOnlyDictionary<string, string?> overrides) : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override IReadOnlyDictionary<string, string?> Settings =>
        base.Settings.Concat(overrides).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

public sealed class SqliteApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override Task<string> CreateDatabaseAsync(string folder) =>
        Task.FromResult($"Data Source={Path.Combine(folder, "groundwork.db")}");
}

public sealed class PostgresApp(PostgresServer server) : GroundworkApp
{
    public override Provider Provider => Provider.Postgres;

    protected override Task<string> CreateDatabaseAsync(string folder) => server.CreateDatabaseAsync();
}

/// <summary>SQLite behind a real Kestrel (HTTP and gRPC ports).</summary>
public sealed class SqliteServerApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override bool RealServer => true;

    protected override Task<string> CreateDatabaseAsync(string folder) =>
        Task.FromResult($"Data Source={Path.Combine(folder, "groundwork.db")}");
}

/// <summary>PostgreSQL behind a real Kestrel (HTTP and gRPC ports).</summary>
public sealed class PostgresServerApp(PostgresServer server) : GroundworkApp
{
    public override Provider Provider => Provider.Postgres;

    protected override bool RealServer => true;

    protected override Task<string> CreateDatabaseAsync(string folder) => server.CreateDatabaseAsync();
}

public static class HttpAssertions
{
    public static async Task<JsonObject> JsonBody(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)?.AsObject() ?? throw new JsonException($"Not a JSON object: {text}");
    }

    /// <summary>Asserts the status and the docs/api/errors.md envelope with <paramref name="code"/>; returns the error object.</summary>
    public static async Task<JsonObject> AssertError(this HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status} {code}, got {(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!.AsObject();
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.NotNull(error["details"]);
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), error["requestId"]!.GetValue<string>());
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        return error;
    }

    public static async Task<JsonObject> AssertStatus(this HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject();
    }

    public static IEnumerable<string> Fields(this JsonObject error) =>
        error["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>());
}

/// <summary>
/// One node of a cluster the test builds: it shares a database (its connection string) and signing keys with the
/// other nodes, and adds <paramref name="settings"/> (Redis, a broker) to the defaults.
/// </summary>
public sealed class ClusterNode(Provider provider, string database, string keys, IReadOnlyDictionary<string, string?> settings) : GroundworkApp
{
    public override Provider Provider => provider;

    public override string KeysPath => keys;

    protected override IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            var all = new Dictionary<string, string?>(base.Settings);
            foreach (var (key, value) in settings)
            {
                all[key] = value;
            }

            return all;
        }
    }

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult(database);
}
