using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Events;

/// <summary>
/// GraphQL subscriptions over graphql-transport-ws: the npm graphql-ws client for what a real client sees, a raw
/// socket for what a broken or hostile one sends.
/// </summary>
public abstract class GraphQLSubscriptionTests(GroundworkApp app)
{
    private static readonly object[] Items = [new { sku = "SKU-1", name = "Thing", quantity = 2, unitPrice = 1_250 }];

    private static async Task<string> CreateOrderAsync(Actor buyer)
    {
        var created = await (await buyer.Client().PostAsJsonAsync($"/api/v1/users/{buyer.Id}/orders", new { currency = "EUR", items = Items })).AssertStatus(201);
        return created["data"]!["id"]!.GetValue<string>();
    }

    /// <summary>
    /// Waits until the server has registered the subscription (it holds one of the user's stream slots, taken once
    /// its starting position is fixed), then causes one event and returns the subscription's first line after it.
    /// </summary>
    private async Task<JsonObject> FirstEventAsync(NodeSubscriber subscriber, Actor subscriberUser, Func<Task<string>> cause)
    {
        Assert.True((await subscriber.ExpectAsync())["connected"] is not null);
        await app.WaitForStreamOfAsync(subscriberUser.Id);

        var marker = await cause();
        var line = await subscriber.ExpectAsync();
        Assert.True(line.ToJsonString().Contains(marker, StringComparison.Ordinal), $"expected the event of {marker}, got {line.ToJsonString()}");
        return line;
    }

    [Fact]
    public async Task The_graphql_ws_client_receives_its_own_order_updates_and_never_another_users()
    {
        var alice = await app.ActorAsync();
        var bob = await app.ActorAsync();
        await using var subscriber = NodeSubscriber.Start(app, alice.AccessToken, "subscription { orderUpdated { id userId status total items { sku quantity } } }");
        var first = await FirstEventAsync(subscriber, alice, () => CreateOrderAsync(alice));
        var firstOrder = first["next"]!["data"]!["orderUpdated"]!.AsObject();
        Assert.Equal(("PENDING", alice.Id.ToString(), 2_500L), (firstOrder["status"]!.GetValue<string>(), firstOrder["userId"]!.GetValue<string>(), firstOrder["total"]!.GetValue<long>()));

        // Bob's orders are not Alice's to follow: refused before anything streams, as GET /users/{bob}/orders is.
        await using (var snooping = NodeSubscriber.Start(app, alice.AccessToken, "subscription($u: ID) { orderUpdated(userId: $u) { id } }", $$"""{"u":"{{bob.Id}}"}"""))
        {
            Assert.True((await snooping.ExpectAsync())["connected"] is not null);
            Assert.Equal("NOT_FOUND", (await snooping.ExpectAsync())["error"]![0]!["extensions"]!["code"]!.GetValue<string>());
        }

        await CreateOrderAsync(bob);
        var aliceOrder = firstOrder["id"]!.GetValue<string>();
        await (await alice.Client().PostAsync($"/api/v1/orders/{aliceOrder}/cancel", null)).AssertStatus(200);

        // Bob's order came first and is not hers to see: the next event is her cancellation.
        var next = await subscriber.ExpectAsync();
        var cancelled = next["next"]!["data"]!["orderUpdated"]!.AsObject();
        Assert.Equal((aliceOrder, "CANCELLED"), (cancelled["id"]!.GetValue<string>(), cancelled["status"]!.GetValue<string>()));
        Assert.Null(next["next"]!["errors"]);
    }

    [Fact]
    public async Task Account_activity_reaches_the_owner_and_another_users_account_is_refused_before_streaming()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var owner = await app.ActorAsync();
        var stranger = await app.ActorAsync();
        var account = await owner.OpenAccountAsync();

        await using (var refused = NodeSubscriber.Start(app, stranger.AccessToken, "subscription($id: ID!) { accountActivity(accountId: $id) { amount } }", $$"""{"id":"{{account}}"}"""))
        {
            Assert.True((await refused.ExpectAsync())["connected"] is not null);
            var error = (await refused.ExpectAsync())["error"]!.AsArray();
            Assert.Equal("NOT_FOUND", error[0]!["extensions"]!["code"]!.GetValue<string>());
        }

        await using var subscriber = NodeSubscriber.Start(app, owner.AccessToken,
            "subscription($id: ID!) { accountActivity(accountId: $id) { accountId direction amount currency transactionId transactionType } }", $$"""{"id":"{{account}}"}""");
        const int amount = 101;
        var line = await FirstEventAsync(subscriber, owner, async () =>
        {
            var deposit = await admin.DepositAsync(account, amount);
            return deposit["data"]!["id"]!.GetValue<string>();
        });
        var activity = line["next"]!["data"]!["accountActivity"]!.AsObject();
        Assert.Equal((account.ToString(), "CREDIT", "EUR", "DEPOSIT"),
            (activity["accountId"]!.GetValue<string>(), activity["direction"]!.GetValue<string>(), activity["currency"]!.GetValue<string>(), activity["transactionType"]!.GetValue<string>()));
        Assert.Equal(amount, activity["amount"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_burst_of_events_arrives_whole_though_the_subscription_reads_two_at_a_time()
    {
        // The subscription reads at most two events from its stream before they are answered; the rest wait in the
        // stream. Each answered event must give its room back, or the subscription stalls after two (and a source
        // that did not wait for room would fail at its first event).
        var buyer = await app.ActorAsync();
        await using var subscriber = NodeSubscriber.Start(app, buyer.AccessToken, "subscription { orderUpdated { id status } }");
        var first = await FirstEventAsync(subscriber, buyer, () => CreateOrderAsync(buyer));
        var burst = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => CreateOrderAsync(buyer)));

        var received = new List<string>();
        while (received.Count < burst.Length)
        {
            var line = await subscriber.ExpectAsync();
            Assert.Null(line["next"]!["errors"]);
            received.Add(line["next"]!["data"]!["orderUpdated"]!["id"]!.GetValue<string>());
        }

        Assert.Equal(burst.Order(), received.Order());
        Assert.DoesNotContain(first["next"]!["data"]!["orderUpdated"]!["id"]!.GetValue<string>(), received);
    }

    [Fact]
    public async Task Published_posts_reach_every_signed_in_subscriber_and_anonymous_subscriptions_are_refused()
    {
        var reader = await app.ActorAsync();
        var author = await app.ActorAsync();
        await using (var anonymous = NodeSubscriber.Start(app, null, "subscription { postPublished { id } }"))
        {
            Assert.True((await anonymous.ExpectAsync())["connected"] is not null);
            Assert.Equal("AUTHENTICATION_ERROR", (await anonymous.ExpectAsync())["error"]![0]!["extensions"]!["code"]!.GetValue<string>());
        }

        await using var subscriber = NodeSubscriber.Start(app, reader.AccessToken, "subscription { postPublished { id title published author { id } } }");
        var line = await FirstEventAsync(subscriber, reader, async () =>
        {
            var post = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Fresh", content = "News", published = true })).AssertStatus(201);
            return post["data"]!["id"]!.GetValue<string>();
        });
        var post = line["next"]!["data"]!["postPublished"]!.AsObject();
        Assert.Equal(("Fresh", true, author.Id.ToString()), (post["title"]!.GetValue<string>(), post["published"]!.GetValue<bool>(), post["author"]!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_IDE_runs_a_subscription_over_the_WebSocket_with_the_Headers_tab_credential()
    {
        var buyer = await app.ActorAsync();
        await using var ide = NodeSubscriber.StartIde(app, buyer.AccessToken, "subscription Orders { orderUpdated { id status } }");
        var line = await FirstEventAsync(ide, buyer, () => CreateOrderAsync(buyer));
        Assert.Equal("PENDING", line["next"]!["data"]!["orderUpdated"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Protocol_violations_close_the_socket_with_the_protocols_codes()
    {
        var user = await app.ActorAsync();
        var init = new JsonObject { ["type"] = "connection_init", ["payload"] = new JsonObject { ["Authorization"] = $"Bearer {user.AccessToken}" } };
        var subscribe = new JsonObject { ["id"] = "1", ["type"] = "subscribe", ["payload"] = new JsonObject { ["query"] = "subscription { postPublished { id } }" } };

        await using (var early = await RawGraphQLSocket.ConnectAsync(app))
        {
            await early.SendAsync(subscribe.DeepClone().AsObject());
            Assert.Equal(4401, await early.ClosedWithAsync());
        }

        await using (var forged = await RawGraphQLSocket.ConnectAsync(app))
        {
            await forged.SendAsync(new JsonObject { ["type"] = "connection_init", ["payload"] = new JsonObject { ["Authorization"] = "Bearer not.a.token" } });
            Assert.Equal(4403, await forged.ClosedWithAsync());
        }

        await using (var garbage = await RawGraphQLSocket.ConnectAsync(app))
        {
            await garbage.SendAsync("{not json");
            Assert.Equal(4400, await garbage.ClosedWithAsync());
        }

        await using (var socket = await RawGraphQLSocket.ConnectAsync(app))
        {
            await socket.SendAsync(init.DeepClone().AsObject());
            Assert.Equal("connection_ack", (await socket.ReceiveAsync())!["type"]!.GetValue<string>());
            await socket.SendAsync(new JsonObject { ["type"] = "ping" });
            Assert.Equal("pong", (await socket.ReceiveAsync())!["type"]!.GetValue<string>());

            // A query runs over the socket too: one result, then complete.
            await socket.SendAsync(new JsonObject { ["id"] = "q", ["type"] = "subscribe", ["payload"] = new JsonObject { ["query"] = "{ me { id } }" } });
            var result = (await socket.ReceiveAsync())!;
            Assert.Equal(("q", "next", user.Id.ToString()), (result["id"]!.GetValue<string>(), result["type"]!.GetValue<string>(), result["payload"]!["data"]!["me"]!["id"]!.GetValue<string>()));
            Assert.Equal("complete", (await socket.ReceiveAsync())!["type"]!.GetValue<string>());

            // A document that cannot run is an error message for that id, and the connection stays.
            await socket.SendAsync(new JsonObject { ["id"] = "bad", ["type"] = "subscribe", ["payload"] = new JsonObject { ["query"] = "subscription { nope }" } });
            var error = (await socket.ReceiveAsync())!;
            Assert.Equal(("bad", "error", "VALIDATION_ERROR"), (error["id"]!.GetValue<string>(), error["type"]!.GetValue<string>(), error["payload"]![0]!["extensions"]!["code"]!.GetValue<string>()));

            // So is a document over the selection limit, refused before validation as over HTTP.
            var diamond = "{ me { ...F0 } } " + string.Concat(Enumerable.Range(0, 22).Select(i => $"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }} ")) + "fragment F22 on User { id }";
            await socket.SendAsync(new JsonObject { ["id"] = "large", ["type"] = "subscribe", ["payload"] = new JsonObject { ["query"] = diamond } });
            var large = (await socket.ReceiveAsync())!;
            Assert.Equal(("large", "error", "VALIDATION_ERROR"), (large["id"]!.GetValue<string>(), large["type"]!.GetValue<string>(), large["payload"]![0]!["extensions"]!["code"]!.GetValue<string>()));
            Assert.Contains($"more than {Groundwork.Platform.GraphQLServer.GraphQLLimits.MaxSelections} fields", large.ToJsonString(), StringComparison.Ordinal);

            await socket.SendAsync(subscribe.DeepClone().AsObject());
            await socket.SendAsync(subscribe.DeepClone().AsObject());
            Assert.Equal(4409, await socket.ClosedWithAsync());
        }

        await using (var twice = await RawGraphQLSocket.ConnectAsync(app))
        {
            await twice.SendAsync(init.DeepClone().AsObject());
            Assert.Equal("connection_ack", (await twice.ReceiveAsync())!["type"]!.GetValue<string>());
            await twice.SendAsync(init.DeepClone().AsObject());
            Assert.Equal(4429, await twice.ClosedWithAsync());
        }

        var foreign = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => RawGraphQLSocket.ConnectAsync(app, origin: "https://evil.example"));
        Assert.Contains("403", foreign.Message, StringComparison.Ordinal);
    }
}

public sealed class ShortInitServerApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override bool RealServer => true;

    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?>(base.Settings) { ["Groundwork:GraphQL:ConnectionInitTimeout"] = "00:00:00.500" };

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

public sealed class GraphQLConnectionLifetimeTests(ShortInitServerApp app) : IClassFixture<ShortInitServerApp>
{
    [Fact]
    public async Task A_connection_that_never_initialises_is_closed_with_4408()
    {
        await using var silent = await RawGraphQLSocket.ConnectAsync(app);
        Assert.Equal(4408, await silent.ClosedWithAsync());
    }

    [Fact]
    public async Task A_connection_whose_session_is_revoked_is_closed_with_4403()
    {
        var user = await app.ActorAsync();
        await using var socket = await RawGraphQLSocket.ConnectAsync(app);
        await socket.SendAsync(new JsonObject { ["type"] = "connection_init", ["payload"] = new JsonObject { ["Authorization"] = $"Bearer {user.AccessToken}" } });
        Assert.Equal("connection_ack", (await socket.ReceiveAsync())!["type"]!.GetValue<string>());
        await socket.SendAsync(new JsonObject { ["id"] = "1", ["type"] = "subscribe", ["payload"] = new JsonObject { ["query"] = "subscription { postPublished { id } }" } });

        await (await user.Client().PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = user.RefreshToken })).AssertStatus(204);
        Assert.Equal(4403, await socket.ClosedWithAsync());
    }

    [Fact]
    public async Task A_socket_without_the_graphql_transport_ws_subprotocol_is_refused()
    {
        var refused = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => RawGraphQLSocket.ConnectAsync(app, subProtocol: "graphql-ws"));
        Assert.Contains("400", refused.Message, StringComparison.Ordinal);
    }
}

public sealed class GraphQLSubscriptionTestsOnSqlite(SqliteServerApp app) : GraphQLSubscriptionTests(app), IClassFixture<SqliteServerApp>;

public sealed class GraphQLSubscriptionTestsOnPostgres(PostgresServerApp app) : GraphQLSubscriptionTests(app), IClassFixture<PostgresServerApp>;
