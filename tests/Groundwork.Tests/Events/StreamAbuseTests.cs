using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Groundwork.Platform.Messaging;
using Groundwork.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Groundwork.Tests.Events;

/// <summary>2 streams per user, so the tests reach the cap.</summary>
public sealed class TightStreamsApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override bool RealServer => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Groundwork:Events:MaxStreamsPerUser"] = "2",
    };

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

/// <summary>Access tokens that live 5 s, so a test sees one expire.</summary>
public sealed class ShortTokenApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override bool RealServer => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Groundwork:Auth:AccessTokenLifetime"] = "00:00:05",
    };

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

/// <summary>2 sockets per address, 3 failed credentials per address (an app of its own: spending them refuses the address for a minute).</summary>
public sealed class TightSocketsApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override bool RealServer => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Groundwork:GraphQL:MaxSocketsPerIp"] = "2",
        ["Groundwork:RateLimits:FailedCredentialsPerIp"] = "3",
    };

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

public sealed class TokenExpiryTests(ShortTokenApp app) : IClassFixture<ShortTokenApp>
{
    [Fact]
    public async Task A_stream_ends_when_the_token_that_opened_it_expires_even_with_the_session_alive()
    {
        var user = await app.ActorAsync();
        // A fresh token just before opening (the HTTP check allows 30 s of clock skew past expiry; streams do not).
        var fresh = await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken })).AssertStatus(200);
        user = user with { AccessToken = fresh["accessToken"]!.GetValue<string>(), RefreshToken = fresh["refreshToken"]!.GetValue<string>() };
        await using var stream = await SseClient.OpenAsync(user.Client(), "?types=user.updated");
        Assert.Same(stream.Ended, await Task.WhenAny(stream.Ended, Task.Delay(SseClient.Patience, TestContext.Current.CancellationToken)));
        // The session itself is fine: a fresh token opens a new stream.
        var refreshed = await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken })).AssertStatus(200);
        var again = user with { AccessToken = refreshed["accessToken"]!.GetValue<string>() };
        await using var reopened = await SseClient.OpenAsync(again.Client(), "?types=user.updated");
    }
}

public sealed class StreamCapTests(TightStreamsApp app) : IClassFixture<TightStreamsApp>
{
    [Fact]
    public async Task The_stream_cap_counts_a_users_API_keys_with_their_sessions()
    {
        var user = await app.ActorAsync();
        var key = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "streams", scopes = new[] { "users:read" } })).AssertStatus(201);
        var keyClient = app.CreateClient();
        keyClient.DefaultRequestHeaders.Add("X-API-Key", key["data"]!["secret"]!.GetValue<string>());

        await using var first = await SseClient.OpenAsync(user.Client(), "?types=user.updated");
        await using var second = await SseClient.OpenAsync(keyClient, "?types=user.updated");
        var third = await (await SseClient.SendAsync(keyClient, "?types=user.updated")).AssertError(429, "RATE_LIMITED");
        Assert.Contains("2 event streams", third["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

}

public sealed class SocketAbuseTests(TightSocketsApp app) : IClassFixture<TightSocketsApp>
{
    [Fact]
    public async Task Sockets_per_address_and_failed_credentials_in_connection_init_are_limited_like_HTTP()
    {
        await using (var one = await RawGraphQLSocket.ConnectAsync(app))
        await using (var two = await RawGraphQLSocket.ConnectAsync(app))
        {
            var refused = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => RawGraphQLSocket.ConnectAsync(app));
            Assert.Contains("429", refused.Message, StringComparison.Ordinal);
        }

        var codes = new List<int>();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            await using var guess = await RawGraphQLSocket.ConnectWhenFreeAsync(app);
            await guess.SendAsync(new JsonObject { ["type"] = "connection_init", ["payload"] = new JsonObject { ["X-API-Key"] = $"gw_guess{attempt}" } });
            codes.Add(await guess.ClosedWithAsync());
        }

        Assert.Equal([4403, 4403, 4403, 4429], codes);
        // The HTTP side shares the count: the address is refused there too.
        var http = app.CreateClient();
        http.DefaultRequestHeaders.Add("X-API-Key", "gw_guess-http");
        await (await http.GetAsync("/api/v1/auth/me")).AssertError(429, "RATE_LIMITED");
    }
}

/// <summary>One socket per address, and a client must take what it is sent within a second.</summary>
public sealed class StallingSocketsApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:GraphQL:MaxSocketsPerIp"] = "1",
    ["Groundwork:GraphQL:SocketSendTimeout"] = "00:00:01",
})
{
    protected override bool RealServer => true;
}

public sealed class StalledSocketTests(StallingSocketsApp app) : IClassFixture<StallingSocketsApp>
{
    [Fact]
    public async Task A_client_that_stops_reading_loses_its_socket_and_frees_its_slot_instead_of_holding_answers_forever()
    {
        var author = await app.ActorAsync();
        for (var i = 0; i < 8; i++)
        {
            await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = $"Long {i}", content = new string('x', 50_000), published = true })).AssertStatus(201);
        }

        // Eight posts of 50,000 characters under 15 aliases: 6 MB per answer, ten answers, far more than the socket
        // buffers on both sides hold.
        var query = "{ " + string.Join(" ", Enumerable.Range(0, 15).Select(i => $"p{i}: posts {{ content }}")) + " }";

        using var stalled = await StalledGraphQLSocket.ConnectAsync(app);
        await stalled.SendAsync(new JsonObject { ["type"] = "connection_init", ["payload"] = new JsonObject { ["Authorization"] = $"Bearer {author.AccessToken}" } });
        for (var i = 0; i < 10; i++)
        {
            await stalled.SendAsync(new JsonObject { ["id"] = $"q{i}", ["type"] = "subscribe", ["payload"] = new JsonObject { ["query"] = query } });
        }

        // The address may hold one socket: a new one is accepted only once the server has given up the stalled one.
        await using (var next = await RawGraphQLSocket.ConnectWhenFreeAsync(app))
        {
            // The stalled connection was ended, not served: reading it now finds its end, well short of ten answers.
            var (bytes, ended) = await stalled.DrainAsync();
            Assert.True(ended, "The stalled connection is still open");
            Assert.True(bytes < 10 * 6_000_000, $"{bytes} bytes arrived: every answer was sent");

            // The new socket works.
            await next.SendAsync(new JsonObject { ["type"] = "connection_init", ["payload"] = new JsonObject { ["Authorization"] = $"Bearer {author.AccessToken}" } });
            Assert.Equal("connection_ack", (await next.ReceiveAsync())!["type"]!.GetValue<string>());

            // A client that reads gets a long answer whole (800 KB, sent in slices of 64 KiB).
            await next.SendAsync(new JsonObject { ["id"] = "long", ["type"] = "subscribe", ["payload"] = new JsonObject { ["query"] = "{ a: posts { content } b: posts { content } }" } });
            var answer = (await next.ReceiveAsync())!;
            Assert.Equal("next", answer["type"]!.GetValue<string>());
            var posts = answer["payload"]!["data"]!["a"]!.AsArray().Concat(answer["payload"]!["data"]!["b"]!.AsArray()).ToList();
            Assert.Equal(16, posts.Count);
            Assert.All(posts, p => Assert.Equal(new string('x', 50_000), p!["content"]!.GetValue<string>()));
            Assert.Equal("complete", (await next.ReceiveAsync())!["type"]!.GetValue<string>());
        }
    }
}

/// <summary>What arrives on the exchange from anyone else never reaches a stream.</summary>
public sealed class ForgedBrokerMessageTests(EventCluster cluster) : IClassFixture<EventCluster>
{
    [Fact]
    public async Task A_message_published_to_the_exchange_by_someone_else_reaches_no_stream()
    {
        var victim = await cluster.A.ActorAsync();
        await using var stream = await SseClient.OpenAsync(victim.Client(), "?types=order.paid,user.updated");

        var factory = new ConnectionFactory { Uri = new Uri(cluster.Rabbit.Uri) };
        await using (var connection = await factory.CreateConnectionAsync(TestContext.Current.CancellationToken))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: TestContext.Current.CancellationToken))
        {
            var forged = new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["type"] = "order.paid", ["occurredAt"] = DateTime.UtcNow.ToString("O"),
                ["subject"] = Guid.NewGuid().ToString(), ["sequence"] = 4_000_000_000_000_000_000, ["data"] = new JsonObject { ["note"] = "FORGED" },
            };
            var properties = new BasicProperties { Headers = new Dictionary<string, object?> { ["gw-owner"] = victim.Id.ToString(), ["gw-visibility"] = 0 } };
            await channel.BasicPublishAsync(RabbitMqConnection.Exchange, "order.paid", false, properties, Encoding.UTF8.GetBytes(forged.ToJsonString()), TestContext.Current.CancellationToken);
        }

        await (await victim.Client().PatchAsJsonAsync($"/api/v1/users/{victim.Id}", new { name = "Real change" })).AssertStatus(200);
        var (real, before) = await stream.NextMatchingAsync(e => e.Type == "user.updated");
        Assert.Empty(before);
        Assert.Equal("Real change", real.Data["data"]!["name"]!.GetValue<string>());
        Assert.True(real.Id < 1_000_000, $"the stream believed a forged sequence: {real.Id}");
        Assert.True(cluster.A.Service<Groundwork.Platform.Realtime.EventHub>().LastSequence < 1_000_000);
    }
}
