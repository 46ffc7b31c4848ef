using Groundwork.Features.Users;
using System.Net.Http.Json;
using Google.Rpc;
using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Tests.Infrastructure;

using Role = Groundwork.Platform.Auth.Role;

namespace Groundwork.Tests.Transports;

/// <summary>
/// One table of (caller × operation → outcome), each row run through REST, GraphQL and gRPC. The transports
/// only translate, so the three must agree with each other and with the expected outcome on every row:
/// BOLA rows (someone else's object), BFLA rows (an operation above the caller's role), validation rows.
/// </summary>
public abstract class CrossTransportTests(GroundworkApp app)
{
    private enum Who
    {
        Anonymous,
        Owner,
        Other,
        Moderator,
        Admin,
    }

    private sealed record World(Dictionary<Who, Actor?> Actors, Guid DraftPost, Guid Order, Guid Account, Guid OtherAccount)
    {
        public Actor Owner => Actors[Who.Owner]!;
        public Actor Other => Actors[Who.Other]!;
    }

    private sealed record Row(
        string Name,
        Who Who,
        string Expected,
        Func<World, Actor?, Task<string>> Rest,
        Func<World, Actor?, Task<string>> GraphQL,
        Func<World, Actor?, Task<string>> Grpc);

    [Fact]
    public async Task REST_GraphQL_and_gRPC_agree_on_every_row_of_the_authorization_and_validation_table()
    {
        var world = await CreateWorldAsync();
        using var channel = app.GrpcChannel();
        var users = new UserService.UserServiceClient(channel);
        var posts = new PostService.PostServiceClient(channel);
        var orders = new OrderService.OrderServiceClient(channel);
        var accounts = new AccountService.AccountServiceClient(channel);

        Row[] table =
        [
            new("read own user", Who.Owner, "OK",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/users/{w.Owner.Id}"),
                (w, a) => GraphQL(a, $$"""{ user(id: "{{w.Owner.Id}}") { id } }"""),
                (w, a) => Grpc(a, m => users.GetUserAsync(new() { Id = w.Owner.Id.ToString() }, m))),
            new("BOLA: read another user", Who.Other, "NOT_FOUND",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/users/{w.Owner.Id}"),
                (w, a) => GraphQL(a, $$"""{ user(id: "{{w.Owner.Id}}") { id } }"""),
                (w, a) => Grpc(a, m => users.GetUserAsync(new() { Id = w.Owner.Id.ToString() }, m))),
            new("moderator reads a user", Who.Moderator, "OK",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/users/{w.Owner.Id}"),
                (w, a) => GraphQL(a, $$"""{ user(id: "{{w.Owner.Id}}") { id } }"""),
                (w, a) => Grpc(a, m => users.GetUserAsync(new() { Id = w.Owner.Id.ToString() }, m))),
            new("anonymous reads a user", Who.Anonymous, "AUTHENTICATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/users/{w.Owner.Id}"),
                (w, a) => GraphQL(a, $$"""{ user(id: "{{w.Owner.Id}}") { id } }"""),
                (w, a) => Grpc(a, m => users.GetUserAsync(new() { Id = w.Owner.Id.ToString() }, m))),
            new("anonymous asks who it is", Who.Anonymous, "AUTHENTICATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Get, "/api/v1/auth/me"),
                (w, a) => GraphQL(a, "{ me { id } }"),
                (w, a) => Grpc(a, m => users.GetMeAsync(new(), m))),
            new("BFLA: user lists users", Who.Owner, "AUTHORIZATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Get, "/api/v1/users"),
                (w, a) => GraphQL(a, "{ users { totalCount } }"),
                (w, a) => Grpc(a, m => users.ListUsersAsync(new(), m))),
            new("moderator lists users", Who.Moderator, "OK",
                (w, a) => Rest(a, HttpMethod.Get, "/api/v1/users"),
                (w, a) => GraphQL(a, "{ users { totalCount } }"),
                (w, a) => Grpc(a, m => users.ListUsersAsync(new(), m))),
            new("validation: limit above 100", Who.Admin, "VALIDATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Get, "/api/v1/users?limit=500"),
                (w, a) => GraphQL(a, "{ users(limit: 500) { totalCount } }"),
                (w, a) => Grpc(a, m => users.ListUsersAsync(new() { Page = new() { Limit = 500 } }, m))),
            new("BFLA: user creates a user", Who.Owner, "AUTHORIZATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/users", new { email = GroundworkApp.UniqueEmail(), name = "N", password = "long-enough-password" }),
                (w, a) => GraphQL(a, $$"""mutation { createUser(input: { email: "{{GroundworkApp.UniqueEmail()}}", name: "N", password: "long-enough-password" }) { id } }"""),
                (w, a) => Grpc(a, m => users.CreateUserAsync(new() { Email = GroundworkApp.UniqueEmail(), Name = "N", Password = "long-enough-password" }, m))),
            new("admin creates a user", Who.Admin, "OK",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/users", new { email = GroundworkApp.UniqueEmail(), name = "N", password = "long-enough-password" }),
                (w, a) => GraphQL(a, $$"""mutation { createUser(input: { email: "{{GroundworkApp.UniqueEmail()}}", name: "N", password: "long-enough-password" }) { id } }"""),
                (w, a) => Grpc(a, m => users.CreateUserAsync(new() { Email = GroundworkApp.UniqueEmail(), Name = "N", Password = "long-enough-password" }, m))),
            new("validation: bad email", Who.Admin, "VALIDATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/users", new { email = "not-an-email", name = "N", password = "long-enough-password" }),
                (w, a) => GraphQL(a, """mutation { createUser(input: { email: "not-an-email", name: "N", password: "long-enough-password" }) { id } }"""),
                (w, a) => Grpc(a, m => users.CreateUserAsync(new() { Email = "not-an-email", Name = "N", Password = "long-enough-password" }, m))),
            new("BOLA: rename another user", Who.Other, "NOT_FOUND",
                (w, a) => Rest(a, HttpMethod.Patch, $"/api/v1/users/{w.Owner.Id}", new { name = "Hacked" }),
                (w, a) => GraphQL(a, $$"""mutation { updateUser(id: "{{w.Owner.Id}}", input: { name: "Hacked" }) { id } }"""),
                (w, a) => Grpc(a, m => users.UpdateUserAsync(new() { Id = w.Owner.Id.ToString(), Name = "Hacked" }, m))),
            new("BFLA: user makes itself admin", Who.Owner, "AUTHORIZATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Patch, $"/api/v1/users/{w.Owner.Id}", new { role = "admin" }),
                (w, a) => GraphQL(a, $$"""mutation { updateUser(id: "{{w.Owner.Id}}", input: { role: ADMIN }) { id } }"""),
                (w, a) => Grpc(a, m => users.UpdateUserAsync(new() { Id = w.Owner.Id.ToString(), Role = Api.V1.Role.Admin }, m))),
            new("BOLA: read someone's draft", Who.Other, "NOT_FOUND",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/posts/{w.DraftPost}"),
                (w, a) => GraphQL(a, $$"""{ post(id: "{{w.DraftPost}}") { id } }"""),
                (w, a) => Grpc(a, m => posts.GetPostAsync(new() { Id = w.DraftPost.ToString() }, m))),
            new("anonymous reads a draft", Who.Anonymous, "NOT_FOUND",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/posts/{w.DraftPost}"),
                (w, a) => GraphQL(a, $$"""{ post(id: "{{w.DraftPost}}") { id } }"""),
                (w, a) => Grpc(a, m => posts.GetPostAsync(new() { Id = w.DraftPost.ToString() }, m))),
            new("moderator reads a draft", Who.Moderator, "OK",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/posts/{w.DraftPost}"),
                (w, a) => GraphQL(a, $$"""{ post(id: "{{w.DraftPost}}") { id } }"""),
                (w, a) => Grpc(a, m => posts.GetPostAsync(new() { Id = w.DraftPost.ToString() }, m))),
            new("BFLA: moderator publishes someone's draft", Who.Moderator, "AUTHORIZATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Post, $"/api/v1/posts/{w.DraftPost}/publish"),
                (w, a) => GraphQL(a, $$"""mutation { publishPost(id: "{{w.DraftPost}}") { id } }"""),
                (w, a) => Grpc(a, m => posts.PublishPostAsync(new() { Id = w.DraftPost.ToString() }, m))),
            new("anonymous writes a post", Who.Anonymous, "AUTHENTICATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/posts", new { title = "T", content = "C" }),
                (w, a) => GraphQL(a, """mutation { createPost(input: { title: "T", content: "C" }) { id } }"""),
                (w, a) => Grpc(a, m => posts.CreatePostAsync(new() { Title = "T", Content = "C" }, m))),
            new("validation: blank title", Who.Owner, "VALIDATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/posts", new { title = " ", content = "C" }),
                (w, a) => GraphQL(a, """mutation { createPost(input: { title: " ", content: "C" }) { id } }"""),
                (w, a) => Grpc(a, m => posts.CreatePostAsync(new() { Title = " ", Content = "C" }, m))),
            new("BOLA: read someone's order", Who.Other, "NOT_FOUND",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/orders/{w.Order}"),
                (w, a) => GraphQL(a, $$"""{ order(id: "{{w.Order}}") { id } }"""),
                (w, a) => Grpc(a, m => orders.GetOrderAsync(new() { Id = w.Order.ToString() }, m))),
            new("admin reads an order", Who.Admin, "OK",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/orders/{w.Order}"),
                (w, a) => GraphQL(a, $$"""{ order(id: "{{w.Order}}") { id } }"""),
                (w, a) => Grpc(a, m => orders.GetOrderAsync(new() { Id = w.Order.ToString() }, m))),
            new("BOLA: read someone's account", Who.Other, "NOT_FOUND",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/accounts/{w.Account}"),
                (w, a) => GraphQL(a, $$"""{ account(id: "{{w.Account}}") { id } }"""),
                (w, a) => Grpc(a, m => accounts.GetAccountAsync(new() { Id = w.Account.ToString() }, m))),
            new("owner reads own account", Who.Owner, "OK",
                (w, a) => Rest(a, HttpMethod.Get, $"/api/v1/accounts/{w.Account}"),
                (w, a) => GraphQL(a, $$"""{ account(id: "{{w.Account}}") { balance } }"""),
                (w, a) => Grpc(a, m => accounts.GetAccountAsync(new() { Id = w.Account.ToString() }, m))),
            new("BOLA: move money out of someone's account", Who.Other, "NOT_FOUND",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/transfers", new { fromAccountId = w.Account, toAccountId = w.OtherAccount, amount = 1 }, key: true),
                (w, a) => GraphQL(a, Transfer(w.Account, w.OtherAccount, 1)),
                (w, a) => Grpc(a, m => accounts.TransferAsync(new() { FromAccountId = w.Account.ToString(), ToAccountId = w.OtherAccount.ToString(), Amount = 1 }, m), key: true)),
            new("validation: zero amount", Who.Owner, "VALIDATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/transfers", new { fromAccountId = w.Account, toAccountId = w.OtherAccount, amount = 0 }, key: true),
                (w, a) => GraphQL(a, Transfer(w.Account, w.OtherAccount, 0)),
                (w, a) => Grpc(a, m => accounts.TransferAsync(new() { FromAccountId = w.Account.ToString(), ToAccountId = w.OtherAccount.ToString(), Amount = 0 }, m), key: true)),
            new("overdraft refused", Who.Owner, "INSUFFICIENT_FUNDS",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/transfers", new { fromAccountId = w.Account, toAccountId = w.OtherAccount, amount = 1_000_000 }, key: true),
                (w, a) => GraphQL(a, Transfer(w.Account, w.OtherAccount, 1_000_000)),
                (w, a) => Grpc(a, m => accounts.TransferAsync(new() { FromAccountId = w.Account.ToString(), ToAccountId = w.OtherAccount.ToString(), Amount = 1_000_000 }, m), key: true)),
            new("anonymous transfer", Who.Anonymous, "AUTHENTICATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/transfers", new { fromAccountId = w.Account, toAccountId = w.OtherAccount, amount = 1 }, key: true),
                (w, a) => GraphQL(a, Transfer(w.Account, w.OtherAccount, 1)),
                (w, a) => Grpc(a, m => accounts.TransferAsync(new() { FromAccountId = w.Account.ToString(), ToAccountId = w.OtherAccount.ToString(), Amount = 1 }, m), key: true)),
            new("owner transfers", Who.Owner, "OK",
                (w, a) => Rest(a, HttpMethod.Post, "/api/v1/transfers", new { fromAccountId = w.Account, toAccountId = w.OtherAccount, amount = 1 }, key: true),
                (w, a) => GraphQL(a, Transfer(w.Account, w.OtherAccount, 1)),
                (w, a) => Grpc(a, m => accounts.TransferAsync(new() { FromAccountId = w.Account.ToString(), ToAccountId = w.OtherAccount.ToString(), Amount = 1 }, m), key: true)),
            new("BFLA: user deposits", Who.Owner, "AUTHORIZATION_ERROR",
                (w, a) => Rest(a, HttpMethod.Post, $"/api/v1/accounts/{w.Account}/deposits", new { amount = 100 }, key: true),
                (w, a) => GraphQL(a, $$"""mutation { deposit(accountId: "{{w.Account}}", amount: 100, idempotencyKey: "{{Guid.NewGuid()}}") { id } }"""),
                (w, a) => Grpc(a, m => accounts.DepositAsync(new() { AccountId = w.Account.ToString(), Amount = 100 }, m), key: true)),
        ];

        var balanceBefore = await app.BalanceAsync(world.Account);
        var disagreements = new List<string>();
        foreach (var row in table)
        {
            var actor = world.Actors[row.Who];
            var outcomes = new[] { ("REST", await row.Rest(world, actor)), ("GraphQL", await row.GraphQL(world, actor)), ("gRPC", await row.Grpc(world, actor)) };
            if (outcomes.Any(o => o.Item2 != row.Expected))
            {
                disagreements.Add($"{row.Name} as {row.Who}: expected {row.Expected}, got {string.Join(", ", outcomes.Select(o => $"{o.Item1} {o.Item2}"))}");
            }
        }

        Assert.True(disagreements.Count == 0, "The transports disagree:\n" + string.Join("\n", disagreements));
        // Side effects: only the three successful 1-cent transfers moved money; nobody was renamed or promoted.
        Assert.Equal(balanceBefore - 3, await app.BalanceAsync(world.Account));
        var owner = await app.Db(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Users, u => u.Id == world.Owner.Id));
        Assert.NotEqual("Hacked", owner.Name);
        Assert.Equal(Role.User, owner.Role);
    }

    [Fact]
    public async Task A_broken_credential_is_refused_on_public_reads_everywhere_but_never_blocks_signing_in()
    {
        var user = await app.ActorAsync();
        const string forged = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ4In0.c2ln";
        var rest = app.CreateClient();
        rest.DefaultRequestHeaders.Authorization = new("Bearer", forged);
        await (await rest.GetAsync("/api/v1/posts")).AssertError(401, "AUTHENTICATION_ERROR");
        (await rest.GraphQLAsync("{ posts { id } }")).AssertError("AUTHENTICATION_ERROR", 401);
        using var channel = app.GrpcChannel();
        var metadata = new Metadata { { "authorization", $"Bearer {forged}" } };
        var grpc = await Assert.ThrowsAsync<RpcException>(() => new PostService.PostServiceClient(channel).ListPostsAsync(new(), metadata).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, grpc.StatusCode);

        // A client holding a stale token can still sign in, over REST and gRPC.
        await (await rest.PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).AssertStatus(200);
        var pair = await new AuthService.AuthServiceClient(channel).LoginAsync(new() { Email = user.Email, Password = user.Password }, metadata);
        Assert.False(string.IsNullOrEmpty(pair.AccessToken));
    }

    private static string Transfer(Guid from, Guid to, long amount) =>
        $$"""mutation { transfer(input: { fromAccountId: "{{from}}", toAccountId: "{{to}}", amount: {{amount}} }, idempotencyKey: "{{Guid.NewGuid()}}") { id } }""";

    private async Task<World> CreateWorldAsync()
    {
        var actors = new Dictionary<Who, Actor?>
        {
            [Who.Anonymous] = null,
            [Who.Owner] = await app.ActorAsync(),
            [Who.Other] = await app.ActorAsync(),
            [Who.Moderator] = await app.ActorAsync(Role.Moderator),
            [Who.Admin] = await app.ActorAsync(Role.Admin),
        };
        var owner = actors[Who.Owner]!;
        var draft = await (await owner.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Draft", content = "Secret" })).AssertStatus(201);
        var order = await (await owner.Client().PostAsJsonAsync($"/api/v1/users/{owner.Id}/orders",
            new { currency = "EUR", items = new[] { new { sku = "S", name = "Thing", quantity = 1, unitPrice = 500 } } })).AssertStatus(201);
        var account = await owner.OpenAccountAsync();
        await actors[Who.Admin]!.DepositAsync(account, 1_000);
        var otherAccount = await actors[Who.Other]!.OpenAccountAsync();
        return new World(actors, Guid.Parse(draft["data"]!["id"]!.GetValue<string>()), Guid.Parse(order["data"]!["id"]!.GetValue<string>()), account, otherAccount);
    }

    private async Task<string> Rest(Actor? actor, HttpMethod method, string path, object? body = null, bool key = false)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (key)
        {
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        }

        var client = actor?.Client() ?? app.CreateClient();
        var response = await client.SendAsync(request);
        if (response.IsSuccessStatusCode)
        {
            return "OK";
        }

        var json = await response.JsonBody();
        return json["error"]!["code"]!.GetValue<string>();
    }

    private async Task<string> GraphQL(Actor? actor, string query)
    {
        var client = actor?.Client() ?? app.CreateClient();
        var response = await client.GraphQLAsync(query);
        return response.Code ?? "OK";
    }

    private static async Task<string> Grpc<T>(Actor? actor, Func<Metadata, AsyncUnaryCall<T>> call, bool key = false)
    {
        var metadata = new Metadata();
        if (actor is not null)
        {
            metadata.Add("authorization", $"Bearer {actor.AccessToken}");
        }

        if (key)
        {
            metadata.Add("idempotency-key", Guid.NewGuid().ToString());
        }

        try
        {
            await call(metadata);
            return "OK";
        }
        catch (RpcException e)
        {
            return e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason ?? $"status {e.StatusCode}";
        }
    }
}

public sealed class CrossTransportTestsOnSqlite(SqliteServerApp app) : CrossTransportTests(app), IClassFixture<SqliteServerApp>;

public sealed class CrossTransportTestsOnPostgres(PostgresServerApp app) : CrossTransportTests(app), IClassFixture<PostgresServerApp>;
