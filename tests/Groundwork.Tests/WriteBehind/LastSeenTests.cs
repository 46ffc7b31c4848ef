using System.Net.Http.Json;
using Groundwork.Features.ApiKeys;
using Groundwork.Features.Auth;
using Groundwork.Platform.WriteBehind;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Groundwork.Tests.WriteBehind;

/// <summary>An app whose write-behind interval never comes within a test: only explicit flushes write.</summary>
public sealed class SlowFlushApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:WriteBehind:Interval"] = "01:00:00",
});

public sealed class LastSeenTests(SlowFlushApp app) : IClassFixture<SlowFlushApp>
{
    private static readonly DateTime LongAgo = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Sessions_and_api_keys_record_their_use_in_memory_and_write_it_in_one_flush()
    {
        var user = await app.ActorAsync();
        var key = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "reader", scopes = new[] { "users:read" } })).AssertStatus(201);
        var keyId = Guid.Parse(key["data"]!["id"]!.GetValue<string>());
        await app.Service<WriteBehindFlusher>().FlushAsync(CancellationToken.None);
        await app.Db(db => db.Sessions.Where(s => s.UserId == user.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, LongAgo)));

        var started = DateTime.UtcNow;
        await (await user.Client().GetAsync("/api/v1/auth/me")).AssertStatus(200);
        var keyClient = app.CreateClient();
        keyClient.DefaultRequestHeaders.Add("X-API-Key", key["data"]!["secret"]!.GetValue<string>());
        await (await keyClient.GetAsync($"/api/v1/users/{user.Id}")).AssertStatus(200);

        // Served without a write: the rows still hold their old values.
        Assert.Equal(LongAgo, await app.Db(db => db.Sessions.Where(s => s.UserId == user.Id).Select(s => s.LastSeenAt).SingleAsync()));
        Assert.Null(await app.Db(db => db.ApiKeys.Where(k => k.Id == keyId).Select(k => k.LastUsedAt).SingleAsync()));

        Assert.Equal(2, await app.Service<WriteBehindFlusher>().FlushAsync(CancellationToken.None));
        Assert.True(await app.Db(db => db.Sessions.Where(s => s.UserId == user.Id).Select(s => s.LastSeenAt).SingleAsync()) >= started.AddSeconds(-1));
        Assert.True(await app.Db(db => db.ApiKeys.Where(k => k.Id == keyId).Select(k => k.LastUsedAt).SingleAsync()) >= started.AddSeconds(-1));
        // Visible where users look: the session list.
        var sessions = await (await user.Client().GetAsync("/api/v1/auth/sessions")).AssertStatus(200);
        Assert.True(sessions["data"]![0]!["lastSeenAt"]!.GetValue<DateTime>() >= started.AddSeconds(-1));
    }
}

/// <summary>A graceful stop (SIGTERM) writes what the buffer holds; the bound on a crash is one interval.</summary>
public sealed class LastSeenShutdownTests(PostgresServer postgres) : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-wb-" + Guid.NewGuid().ToString("N")[..8]);
    private ServerProcess? _server;

    [Fact]
    public async Task SIGTERM_flushes_the_buffered_last_seen_timestamps_and_view_counts()
    {
        Directory.CreateDirectory(_folder);
        var connectionString = await postgres.CreateDatabaseAsync();
        _server = new ServerProcess(_folder, connectionString, new Dictionary<string, string> { ["Groundwork__WriteBehind__Interval"] = "01:00:00" });
        await _server.StartAsync();
        using var http = new HttpClient { BaseAddress = _server.Address };
        await (await http.PostAsJsonAsync("/api/v1/auth/register", new { email = "wb@example.com", name = "WB", password = "write-behind-1" })).AssertStatus(201);
        var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { email = "wb@example.com", password = "write-behind-1" })).AssertStatus(200);
        await using (var db = new NpgsqlConnection(connectionString))
        {
            await db.OpenAsync();
            await using var old = new NpgsqlCommand("UPDATE sessions SET last_seen_at = '2020-01-01T00:00:00Z'", db);
            await old.ExecuteNonQueryAsync();
        }

        http.DefaultRequestHeaders.Authorization = new("Bearer", login["accessToken"]!.GetValue<string>());
        await (await http.GetAsync("/api/v1/auth/me")).AssertStatus(200);
        var post = await (await http.PostAsJsonAsync("/api/v1/posts", new { title = "Viewed", content = "C" })).AssertStatus(201);
        var postId = post["data"]!["id"]!.GetValue<string>();
        for (var i = 0; i < 3; i++)
        {
            await (await http.GetAsync($"/api/v1/posts/{postId}")).AssertStatus(200);
        }

        Assert.Equal(0, await _server.TerminateAsync());

        await using var check = new NpgsqlConnection(connectionString);
        await check.OpenAsync();
        await using var read = new NpgsqlCommand("SELECT last_seen_at FROM sessions", check);
        var lastSeen = (DateTime)(await read.ExecuteScalarAsync())!;
        Assert.True(lastSeen > new DateTime(2021, 1, 1, 0, 0, 0, DateTimeKind.Utc), $"last_seen_at is still {lastSeen:O}");
        await using var views = new NpgsqlCommand("SELECT view_count FROM posts", check);
        Assert.Equal(3L, (long)(await views.ExecuteScalarAsync())!);
    }

    public async ValueTask DisposeAsync()
    {
        _server?.Dispose();
        NpgsqlConnection.ClearAllPools();
        await Task.Yield();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
