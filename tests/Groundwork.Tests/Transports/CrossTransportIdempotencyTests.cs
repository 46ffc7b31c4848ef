using Groundwork.Features.Posts;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Google.Rpc;
using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Tests.Infrastructure;

using Role = Groundwork.Platform.Auth.Role;

namespace Groundwork.Tests.Transports;

/// <summary>
/// Whether a POST takes an idempotency key is the operation's declaration, so REST, GraphQL and gRPC must agree on
/// every row: without a key (refused when required), the same key twice (one effect, the second a replay of the
/// same object), and the same key with other content (IDEMPOTENCY_KEY_REUSED, nothing done).
/// </summary>
public abstract class CrossTransportIdempotencyTests(GroundworkApp app)
{
    private enum Transport
    {
        Rest,
        GraphQL,
        Grpc,
    }

    /// <summary>What one call answered: a catalogue code or OK, the object's id, and whether it was a replay.</summary>
    private sealed record Outcome(string Code, string? Id, bool Replayed);

    /// <param name="Fresh">Makes what one call needs (an order to pay, a unique title) and returns its id.</param>
    /// <param name="Send">One call over a transport, with the content a <c>Fresh</c> id picks and an optional key.</param>
    private sealed record Row(string Name, bool KeyRequired, Func<Task<Guid>> Fresh, Func<Transport, Guid, string?, Task<Outcome>> Send);

    [Fact]
    public async Task REST_GraphQL_and_gRPC_agree_on_the_idempotency_of_every_POST_that_creates_or_moves_something()
    {
        var owner = await app.ActorAsync();
        var admin = await app.ActorAsync(Role.Admin);
        var payee = await (await app.ActorAsync()).OpenAccountAsync();
        var wallet = await owner.OpenAccountAsync();
        await admin.DepositAsync(wallet, 1_000_000);
        using var channel = app.GrpcChannel();
        var posts = new PostService.PostServiceClient(channel);
        var orders = new OrderService.OrderServiceClient(channel);
        var accounts = new AccountService.AccountServiceClient(channel);
        var users = new UserService.UserServiceClient(channel);
        var currencies = new[] { "EUR", "USD", "GBP", "JPY", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "CAD", "AUD", "NZD" };
        var accountsOpened = 0;
        var currencyOf = new Dictionary<Guid, string>();

        async Task<Guid> NewOrder()
        {
            var order = await (await owner.Client().PostAsJsonAsync($"/api/v1/users/{owner.Id}/orders",
                new { currency = "EUR", items = new[] { new { sku = "S", name = "Thing", quantity = 1, unitPrice = 10 } } })).AssertStatus(201);
            return Guid.Parse(order["data"]!["id"]!.GetValue<string>());
        }

        Row[] table =
        [
            new("create a post", false, () => Task.FromResult(Guid.NewGuid()), (t, tag, key) => t switch
            {
                Transport.Rest => Rest(owner, "/api/v1/posts", new { title = $"T {tag}", content = "C" }, key),
                // createPost's signature is the seed's: its key travels in the request's Idempotency-Key header.
                Transport.GraphQL => GraphQL(owner, $$"""mutation { createPost(input: { title: "T {{tag}}", content: "C" }) { id } }""", "createPost", headerKey: key),
                _ => Grpc(owner, m => posts.CreatePostAsync(new() { Title = $"T {tag}", Content = "C" }, m), p => p.Id, key),
            }),
            new("open an account", false, () =>
            {
                var tag = Guid.NewGuid();
                currencyOf[tag] = currencies[accountsOpened++ % currencies.Length];
                return Task.FromResult(tag);
            }, (t, tag, key) => t switch
            {
                Transport.Rest => Rest(owner, "/api/v1/accounts", new { currency = currencyOf[tag] }, key),
                Transport.GraphQL => GraphQL(owner, $$"""mutation { createAccount(currency: "{{currencyOf[tag]}}"{{Arg(key)}}) { id } }""", "createAccount"),
                _ => Grpc(owner, m => accounts.CreateAccountAsync(new() { Currency = currencyOf[tag] }, m), a => a.Id, key),
            }),
            new("place an order", false, () => Task.FromResult(Guid.NewGuid()), (t, tag, key) => t switch
            {
                Transport.Rest => Rest(owner, $"/api/v1/users/{owner.Id}/orders", new { currency = "EUR", items = new[] { new { sku = tag.ToString("N")[..20], name = "Thing", quantity = 1, unitPrice = 10 } } }, key),
                Transport.GraphQL => GraphQL(owner, $$"""mutation { createOrder(input: { currency: "EUR", items: [{ sku: "{{tag.ToString("N")[..20]}}", name: "Thing", quantity: 1, unitPrice: 10 }] }{{Arg(key)}}) { id } }""", "createOrder"),
                _ => Grpc(owner, m => orders.CreateOrderAsync(new() { Currency = "EUR", Items = { new OrderItem { Sku = tag.ToString("N")[..20], Name = "Thing", Quantity = 1, UnitPrice = 10 } } }, m), o => o.Id, key),
            }),
            new("cancel an order", false, NewOrder, (t, order, key) => t switch
            {
                Transport.Rest => Rest(owner, $"/api/v1/orders/{order}/cancel", null, key),
                Transport.GraphQL => GraphQL(owner, $$"""mutation { cancelOrder(id: "{{order}}"{{Arg(key)}}) { id } }""", "cancelOrder"),
                _ => Grpc(owner, m => orders.CancelOrderAsync(new() { Id = order.ToString() }, m), o => o.Id, key),
            }),
            new("admin creates a user", false, () => Task.FromResult(Guid.NewGuid()), (t, tag, key) => t switch
            {
                Transport.Rest => Rest(admin, "/api/v1/users", new { email = $"{tag:N}@example.com", name = "N", password = "long-enough-password" }, key),
                Transport.GraphQL => GraphQL(admin, $$"""mutation { createUser(input: { email: "{{tag:N}}@example.com", name: "N", password: "long-enough-password" }) { id } }""", "createUser", headerKey: key),
                _ => Grpc(admin, m => users.CreateUserAsync(new() { Email = $"{tag:N}@example.com", Name = "N", Password = "long-enough-password" }, m), u => u.Id, key),
            }),
            new("transfer", true, () => Task.FromResult(Guid.NewGuid()), (t, tag, key) => t switch
            {
                Transport.Rest => Rest(owner, "/api/v1/transfers", new { fromAccountId = wallet, toAccountId = payee, amount = 1, description = tag.ToString() }, key),
                Transport.GraphQL => GraphQL(owner, $$"""mutation { transfer(input: { fromAccountId: "{{wallet}}", toAccountId: "{{payee}}", amount: 1, description: "{{tag}}" }, idempotencyKey: {{Quoted(key)}}) { id } }""", "transfer"),
                _ => Grpc(owner, m => accounts.TransferAsync(new() { FromAccountId = wallet.ToString(), ToAccountId = payee.ToString(), Amount = 1, Description = tag.ToString() }, m), x => x.Id, key),
            }),
            new("deposit", true, () => Task.FromResult(Guid.NewGuid()), (t, tag, key) => t switch
            {
                Transport.Rest => Rest(admin, $"/api/v1/accounts/{payee}/deposits", new { amount = 5, description = tag.ToString() }, key),
                Transport.GraphQL => GraphQL(admin, $$"""mutation { deposit(accountId: "{{payee}}", amount: 5, description: "{{tag}}", idempotencyKey: {{Quoted(key)}}) { id } }""", "deposit"),
                _ => Grpc(admin, m => accounts.DepositAsync(new() { AccountId = payee.ToString(), Amount = 5, Description = tag.ToString() }, m), x => x.Id, key),
            }),
            new("pay an order", true, NewOrder, (t, order, key) => t switch
            {
                Transport.Rest => Rest(owner, $"/api/v1/orders/{order}/pay", new { accountId = wallet }, key),
                Transport.GraphQL => GraphQL(owner, $$"""mutation { payOrder(id: "{{order}}", accountId: "{{wallet}}", idempotencyKey: {{Quoted(key)}}) { id } }""", "payOrder"),
                _ => Grpc(owner, m => orders.PayOrderAsync(new() { Id = order.ToString(), AccountId = wallet.ToString() }, m), o => o.Id, key),
            }),
        ];

        var disagreements = new List<string>();
        foreach (var row in table)
        {
            foreach (var transport in Enum.GetValues<Transport>())
            {
                var where = $"{row.Name} over {transport}";
                var withoutKey = await row.Send(transport, await row.Fresh(), null);
                var expected = row.KeyRequired ? "VALIDATION_ERROR" : "OK";
                if (withoutKey.Code != expected)
                {
                    disagreements.Add($"{where} without a key: expected {expected}, got {withoutKey.Code}");
                }

                var key = $"{transport}-{Guid.NewGuid():N}";
                var content = await row.Fresh();
                var first = await row.Send(transport, content, key);
                var second = await row.Send(transport, content, key);
                if (first.Code != "OK" || first.Replayed || second.Code != "OK" || second.Id != first.Id)
                {
                    disagreements.Add($"{where} with one key twice: got {first} then {second}");
                }

                if (transport != Transport.GraphQL && !second.Replayed)
                {
                    disagreements.Add($"{where}: the second answer is not marked as a replay");
                }

                var reused = await row.Send(transport, await row.Fresh(), key);
                if (reused.Code != "IDEMPOTENCY_KEY_REUSED")
                {
                    disagreements.Add($"{where} with the key of other content: expected IDEMPOTENCY_KEY_REUSED, got {reused.Code}");
                }
            }

            // The same content under one key is one request whichever transport sends it: a client that retries
            // over another transport gets the first answer, not a 422.
            var sharedKey = $"shared-{Guid.NewGuid():N}";
            var sharedContent = await row.Fresh();
            var original = await row.Send(Transport.Rest, sharedContent, sharedKey);
            foreach (var transport in new[] { Transport.GraphQL, Transport.Grpc })
            {
                var retried = await row.Send(transport, sharedContent, sharedKey);
                if (original.Code != "OK" || retried.Code != "OK" || retried.Id != original.Id)
                {
                    disagreements.Add($"{row.Name} over REST, then {transport} with the same key and content: got {original} then {retried}");
                }
            }
        }

        Assert.True(disagreements.Count == 0, "The transports disagree:\n" + string.Join("\n", disagreements));
        // Side effects: per transport, transfers without a key were refused and the keyed one moved money once.
        // Per transport one keyed transfer (1) and one keyed payment (10); once more each over REST, replayed by the others.
        Assert.Equal(1_000_000 - 4 - (4 * 10), await app.BalanceAsync(wallet));
        Assert.Equal((4 * 5) + 4, await app.BalanceAsync(payee));
        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task A_key_used_over_REST_replays_over_gRPC_for_the_same_request()
    {
        var owner = await app.ActorAsync();
        var key = Guid.NewGuid().ToString();
        var rest = await Rest(owner, "/api/v1/posts", new { title = "Shared key", content = "C" }, key);
        using var channel = app.GrpcChannel();
        var grpc = await Grpc(owner, m => new PostService.PostServiceClient(channel).CreatePostAsync(new() { Title = "Shared key", Content = "C" }, m), p => p.Id, key);
        Assert.Equal(new Outcome("OK", rest.Id, false), rest);
        Assert.Equal(new Outcome("OK", rest.Id, true), grpc);
        Assert.Equal(1, await app.Db(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Posts, p => p.AuthorId == owner.Id)));
    }

    [Fact]
    public async Task A_password_is_not_part_of_what_the_idempotency_record_remembers()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var key = Guid.NewGuid().ToString();
        var email = GroundworkApp.UniqueEmail("keyed");
        var first = await Rest(admin, "/api/v1/users", new { email, name = "Keyed", password = "first-password-1" }, key);
        // Same key, same user, another password: the same request as far as the record knows, so a replay.
        var second = await Rest(admin, "/api/v1/users", new { email, name = "Keyed", password = "other-password-2" }, key);
        Assert.Equal(new Outcome("OK", first.Id, true), second);
        var record = await app.Db(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.IdempotencyRecords, r => r.Key == key));
        Assert.DoesNotContain("first-password-1", record.Response!, StringComparison.Ordinal);
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email, password = "first-password-1" })).AssertStatus(200);
    }

    private static string Arg(string? key) => key is null ? "" : $", idempotencyKey: \"{key}\"";

    private static string Quoted(string? key) => key is null ? "null" : $"\"{key}\"";

    private static async Task<Outcome> Rest(Actor actor, string path, object? body, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        var response = await actor.Client().SendAsync(request);
        var json = await response.JsonBody();
        return response.IsSuccessStatusCode
            ? new Outcome("OK", json["data"]!["id"]!.GetValue<string>(), response.Headers.Contains("Idempotent-Replayed"))
            : new Outcome(json["error"]!["code"]!.GetValue<string>(), null, false);
    }

    private static async Task<Outcome> GraphQL(Actor actor, string query, string field, string? headerKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = JsonContent.Create(new { query }) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(GraphQLClient.ResponseMediaType));
        if (headerKey is not null)
        {
            request.Headers.Add("Idempotency-Key", headerKey);
        }

        var response = await actor.Client().SendAsync(request);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (json["errors"] is JsonArray { Count: > 0 } errors)
        {
            return new Outcome(errors[0]!["extensions"]!["code"]!.GetValue<string>(), null, false);
        }

        return new Outcome("OK", json["data"]![field]!["id"]!.GetValue<string>(), false);
    }

    private static async Task<Outcome> Grpc<T>(Actor actor, Func<Metadata, AsyncUnaryCall<T>> call, Func<T, string> id, string? key)
    {
        var metadata = new Metadata { { "authorization", $"Bearer {actor.AccessToken}" } };
        if (key is not null)
        {
            metadata.Add("idempotency-key", key);
        }

        try
        {
            using var pending = call(metadata);
            var value = await pending.ResponseAsync;
            var headers = await pending.ResponseHeadersAsync;
            return new Outcome("OK", id(value), headers.GetValue("idempotent-replayed") == "true");
        }
        catch (RpcException e)
        {
            return new Outcome(e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason ?? $"status {e.StatusCode}", null, false);
        }
    }
}

public sealed class CrossTransportIdempotencyTestsOnSqlite(SqliteServerApp app) : CrossTransportIdempotencyTests(app), IClassFixture<SqliteServerApp>;

public sealed class CrossTransportIdempotencyTestsOnPostgres(PostgresServerApp app) : CrossTransportIdempotencyTests(app), IClassFixture<PostgresServerApp>;
