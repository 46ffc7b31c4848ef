using Groundwork.Features.Users;
using Groundwork.Features.Posts;
using System.Net.Http.Json;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Platform;

/// <summary>
/// Role × operation for every endpoint of the identity slice. "target" is a plain user; the actors are
/// anonymous, the target itself, another user, a moderator, an admin, and API keys with and without the scope.
/// Invisible objects answer 404, visible-but-forbidden 403.
/// </summary>
public abstract class AuthorizationMatrixTests(GroundworkApp app)
{
    public static TheoryData<string, string, int> Matrix => new()
    {
        { "ListUsers", "anonymous", 401 }, { "ListUsers", "self", 403 }, { "ListUsers", "other", 403 },
        { "ListUsers", "moderator", 200 }, { "ListUsers", "admin", 200 },
        { "ListUsers", "key:users:read", 403 }, { "ListUsers", "adminkey:users:read", 200 }, { "ListUsers", "adminkey:posts:read", 403 },

        { "GetUser", "anonymous", 401 }, { "GetUser", "self", 200 }, { "GetUser", "other", 404 },
        { "GetUser", "moderator", 200 }, { "GetUser", "admin", 200 },
        { "GetUser", "key:users:read", 200 }, { "GetUser", "key:posts:read", 403 },

        { "RenameUser", "anonymous", 401 }, { "RenameUser", "self", 200 }, { "RenameUser", "other", 404 },
        { "RenameUser", "moderator", 403 }, { "RenameUser", "admin", 200 },
        { "RenameUser", "key:users:write", 200 }, { "RenameUser", "key:users:read", 403 },

        { "ChangeRole", "self", 403 }, { "ChangeRole", "other", 404 }, { "ChangeRole", "moderator", 403 },
        { "ChangeRole", "admin", 200 }, { "ChangeRole", "adminkey:users:write", 200 },

        { "CreateUser", "anonymous", 401 }, { "CreateUser", "self", 403 }, { "CreateUser", "moderator", 403 },
        { "CreateUser", "admin", 201 }, { "CreateUser", "adminkey:users:write", 201 }, { "CreateUser", "adminkey:users:read", 403 },

        { "DeleteUser", "anonymous", 401 }, { "DeleteUser", "self", 204 }, { "DeleteUser", "other", 404 },
        { "DeleteUser", "moderator", 403 }, { "DeleteUser", "admin", 204 }, { "DeleteUser", "key:users:read", 403 },

        { "Me", "anonymous", 401 }, { "Me", "self", 200 }, { "Me", "key:posts:read", 200 },
        { "ListSessions", "anonymous", 401 }, { "ListSessions", "self", 200 },
        { "ChangePassword", "anonymous", 401 }, { "ChangePassword", "key:users:read", 403 },
        { "CreateApiKey", "anonymous", 401 }, { "CreateApiKey", "self", 201 }, { "CreateApiKey", "key:users:write", 403 },
        { "ListApiKeys", "anonymous", 401 }, { "ListApiKeys", "self", 200 },

        // Money and commerce: "target" owns an EUR account with 1,000, a pending order and a draft post.
        { "GetAccount", "anonymous", 401 }, { "GetAccount", "self", 200 }, { "GetAccount", "other", 404 },
        { "GetAccount", "moderator", 404 }, { "GetAccount", "admin", 200 }, { "GetAccount", "key:accounts:read", 200 }, { "GetAccount", "key:posts:read", 403 },
        { "AccountHistory", "self", 200 }, { "AccountHistory", "other", 404 }, { "AccountHistory", "admin", 200 },
        { "ListOwnersAccounts", "self", 200 }, { "ListOwnersAccounts", "other", 403 }, { "ListOwnersAccounts", "admin", 200 },
        { "OpenAccount", "anonymous", 401 }, { "OpenAccount", "self", 201 }, { "OpenAccount", "key:accounts:read", 403 },
        { "Deposit", "anonymous", 401 }, { "Deposit", "self", 403 }, { "Deposit", "moderator", 403 }, { "Deposit", "admin", 201 },
        { "Transfer", "anonymous", 401 }, { "Transfer", "self", 201 }, { "Transfer", "other", 404 }, { "Transfer", "admin", 403 },
        { "Transfer", "key:transfers:write", 201 }, { "Transfer", "key:accounts:read", 403 },
        { "VerifyLedger", "anonymous", 401 }, { "VerifyLedger", "self", 403 }, { "VerifyLedger", "moderator", 403 }, { "VerifyLedger", "admin", 200 },
        { "GetOrder", "anonymous", 401 }, { "GetOrder", "self", 200 }, { "GetOrder", "other", 404 }, { "GetOrder", "moderator", 404 },
        { "GetOrder", "admin", 200 }, { "GetOrder", "key:orders:read", 200 }, { "GetOrder", "key:posts:read", 403 },
        { "ListOrders", "self", 200 }, { "ListOrders", "other", 404 }, { "ListOrders", "moderator", 403 }, { "ListOrders", "admin", 200 },
        { "CreateOrder", "self", 201 }, { "CreateOrder", "other", 404 }, { "CreateOrder", "admin", 201 }, { "CreateOrder", "key:orders:read", 403 },
        { "PayOrder", "self", 200 }, { "PayOrder", "other", 404 }, { "PayOrder", "admin", 403 },
        { "CancelOrder", "self", 200 }, { "CancelOrder", "other", 404 }, { "CancelOrder", "moderator", 404 }, { "CancelOrder", "admin", 200 },
        { "GetDraft", "anonymous", 404 }, { "GetDraft", "self", 200 }, { "GetDraft", "other", 404 }, { "GetDraft", "moderator", 200 }, { "GetDraft", "admin", 200 },
        { "PublishDraft", "self", 200 }, { "PublishDraft", "other", 404 }, { "PublishDraft", "moderator", 403 },
        { "DeleteDraft", "self", 204 }, { "DeleteDraft", "other", 404 }, { "DeleteDraft", "moderator", 204 },
        { "CreatePost", "anonymous", 401 }, { "CreatePost", "self", 201 }, { "CreatePost", "key:posts:write", 201 }, { "CreatePost", "key:posts:read", 403 },
        { "ListPosts", "anonymous", 200 }, { "ListPosts", "key:posts:read", 200 }, { "ListPosts", "key:users:read", 403 },
    };

    private sealed record Fixture(Guid Account, Guid Order, Guid Draft);

    private async Task<Fixture> MoneyFixtureAsync(Actor target)
    {
        var admin = await app.ActorAsync(Role.Admin);
        var account = await MoneyHelpers.OpenAccountAsync(target);
        await MoneyHelpers.DepositAsync(admin, account, 1_000);
        var order = await (await target.Client().PostAsJsonAsync($"/api/v1/users/{target.Id}/orders",
            new { currency = "EUR", items = new[] { new { sku = "S", name = "N", quantity = 1, unitPrice = 100 } } })).AssertStatus(201);
        var draft = await (await target.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Draft", content = "Text" })).AssertStatus(201);
        return new Fixture(account, Guid.Parse(order["data"]!["id"]!.GetValue<string>()), Guid.Parse(draft["data"]!["id"]!.GetValue<string>()));
    }

    private static HttpRequestMessage Keyed(string path, object body) =>
        MoneyHelpers.Post(path, body, Guid.NewGuid().ToString());

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Operation_by_actor_answers_as_specified(string operation, string actor, int expected)
    {
        var target = await app.ActorAsync();
        var needsMoney = !new[] { "ListUsers", "GetUser", "RenameUser", "ChangeRole", "CreateUser", "DeleteUser", "Me", "ListSessions", "ChangePassword", "CreateApiKey", "ListApiKeys" }.Contains(operation);
        var f = needsMoney ? await MoneyFixtureAsync(target) : new Fixture(Guid.Empty, Guid.Empty, Guid.Empty);
        var client = await ClientFor(actor, target);
        var response = operation switch
        {
            "GetAccount" => await client.GetAsync($"/api/v1/accounts/{f.Account}"),
            "AccountHistory" => await client.GetAsync($"/api/v1/accounts/{f.Account}/transactions"),
            "ListOwnersAccounts" => await client.GetAsync($"/api/v1/accounts?ownerId={target.Id}"),
            "OpenAccount" => await client.PostAsJsonAsync("/api/v1/accounts", new { currency = "USD" }),
            "Deposit" => await client.SendAsync(Keyed($"/api/v1/accounts/{f.Account}/deposits", new { amount = 10 })),
            "Transfer" => await client.SendAsync(Keyed("/api/v1/transfers", new { fromAccountId = f.Account, toAccountId = await SinkAccountAsync(), amount = 10 })),
            "VerifyLedger" => await client.GetAsync("/api/v1/admin/ledger/verify"),
            "GetOrder" => await client.GetAsync($"/api/v1/orders/{f.Order}"),
            "ListOrders" => await client.GetAsync($"/api/v1/users/{target.Id}/orders"),
            "CreateOrder" => await client.PostAsJsonAsync($"/api/v1/users/{target.Id}/orders", new { currency = "EUR", items = new[] { new { sku = "S", name = "N", quantity = 1, unitPrice = 5 } } }),
            "PayOrder" => await client.SendAsync(Keyed($"/api/v1/orders/{f.Order}/pay", new { accountId = f.Account })),
            "CancelOrder" => await client.PostAsync($"/api/v1/orders/{f.Order}/cancel", null),
            "GetDraft" => await client.GetAsync($"/api/v1/posts/{f.Draft}"),
            "PublishDraft" => await client.PostAsync($"/api/v1/posts/{f.Draft}/publish", null),
            "DeleteDraft" => await client.DeleteAsync($"/api/v1/posts/{f.Draft}"),
            "CreatePost" => await client.PostAsJsonAsync("/api/v1/posts", new { title = "T", content = "C" }),
            "ListPosts" => await client.GetAsync("/api/v1/posts"),
            "ListUsers" => await client.GetAsync("/api/v1/users"),
            "GetUser" => await client.GetAsync($"/api/v1/users/{target.Id}"),
            "RenameUser" => await client.PatchAsJsonAsync($"/api/v1/users/{target.Id}", new { name = "Renamed" }),
            "ChangeRole" => await client.PatchAsJsonAsync($"/api/v1/users/{target.Id}", new { role = "moderator" }),
            "CreateUser" => await client.PostAsJsonAsync("/api/v1/users", new { email = GroundworkApp.UniqueEmail(), name = "New", password = "password-123" }),
            "DeleteUser" => await client.DeleteAsync($"/api/v1/users/{target.Id}"),
            "Me" => await client.GetAsync("/api/v1/auth/me"),
            "ListSessions" => await client.GetAsync("/api/v1/auth/sessions"),
            "ChangePassword" => await client.PostAsJsonAsync("/api/v1/auth/password", new { currentPassword = target.Password, newPassword = "another-pass-1" }),
            "CreateApiKey" => await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "k", scopes = new[] { "posts:read" } }),
            "ListApiKeys" => await client.GetAsync("/api/v1/api-keys"),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };

        if (expected >= 400)
        {
            await response.AssertError(expected, ErrorCodes.FromHttpStatus(expected).WireName());
            if (needsMoney)
            {
                // Refused means unchanged: the balance is what the fixture deposited.
                Assert.Equal(1_000, await MoneyHelpers.BalanceAsync(app, f.Account));
            }

            return;
        }

        var body = await response.AssertStatus(expected);
        switch (operation)
        {
            case "GetUser" or "RenameUser" or "ChangeRole":
                Assert.Equal(target.Id.ToString(), body["data"]!["id"]!.GetValue<string>());
                var stored = await MoneyHelpers.Db(app, db => db.Users.AsNoTracking().SingleAsync(u => u.Id == target.Id));
                Assert.Equal(operation == "RenameUser" ? "Renamed" : "Test User", stored.Name);
                Assert.Equal(operation == "ChangeRole" ? Role.Moderator : Role.User, stored.Role);
                break;
            case "ListUsers":
                Assert.True(body["meta"]!["total"]!.GetValue<int>() >= 1);
                break;
            case "GetAccount":
                Assert.Equal(1_000, body["data"]!["balance"]!.GetValue<long>());
                break;
            case "GetOrder" or "GetDraft":
                Assert.Equal((operation == "GetOrder" ? f.Order : f.Draft).ToString(), body["data"]!["id"]!.GetValue<string>());
                break;
            case "PayOrder":
                Assert.Equal("paid", body["data"]!["status"]!.GetValue<string>());
                Assert.Equal(900, await MoneyHelpers.BalanceAsync(app, f.Account));
                break;
            case "VerifyLedger":
                Assert.True(body["ok"]!.GetValue<bool>());
                break;
            case "DeleteUser":
                Assert.False(await MoneyHelpers.Db(app, db => db.Users.AnyAsync(u => u.Id == target.Id)));
                break;
            case "DeleteDraft":
                Assert.False(await MoneyHelpers.Db(app, db => db.Posts.AnyAsync(p => p.Id == f.Draft)));
                break;
            case "CancelOrder":
                Assert.Equal("cancelled", body["data"]!["status"]!.GetValue<string>());
                break;
            case "PublishDraft":
                Assert.True(body["data"]!["published"]!.GetValue<bool>());
                break;
            case "CreateUser" or "CreateApiKey" or "OpenAccount" or "Deposit" or "Transfer" or "CreateOrder" or "CreatePost":
                Assert.NotNull(body["data"]!["id"]);
                break;
        }
    }

    /// <summary>A stranger's EUR account to receive transfers.</summary>
    private async Task<Guid> SinkAccountAsync() => await MoneyHelpers.OpenAccountAsync(await app.ActorAsync());

    private async Task<HttpClient> ClientFor(string actor, Actor target)
    {
        if (actor == "anonymous")
        {
            return app.CreateClient();
        }

        if (actor == "self")
        {
            return target.Client();
        }

        if (actor.StartsWith("key:", StringComparison.Ordinal) || actor.StartsWith("adminkey:", StringComparison.Ordinal))
        {
            var owner = actor.StartsWith("adminkey:", StringComparison.Ordinal) ? await app.ActorAsync(Role.Admin) : target;
            var scope = actor[(actor.IndexOf(':', StringComparison.Ordinal) + 1)..];
            var created = await (await owner.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "matrix", scopes = new[] { scope } })).AssertStatus(201);
            var client = app.CreateClient();
            client.DefaultRequestHeaders.Add("X-API-Key", created["data"]!["secret"]!.GetValue<string>());
            return client;
        }

        var role = actor switch
        {
            "other" => Role.User,
            "moderator" => Role.Moderator,
            "admin" => Role.Admin,
            _ => throw new ArgumentOutOfRangeException(nameof(actor)),
        };
        return (await app.ActorAsync(role)).Client();
    }
}

public sealed class AuthorizationMatrixTestsOnSqlite(SqliteApp app) : AuthorizationMatrixTests(app), IClassFixture<SqliteApp>;

public sealed class AuthorizationMatrixTestsOnPostgres(PostgresApp app) : AuthorizationMatrixTests(app), IClassFixture<PostgresApp>;
