using System.Net.Http.Json;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Tests.Infrastructure;

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
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Operation_by_actor_answers_as_specified(string operation, string actor, int expected)
    {
        var target = await app.ActorAsync();
        var client = await ClientFor(actor, target);
        var response = operation switch
        {
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
            return;
        }

        var body = await response.AssertStatus(expected);
        switch (operation)
        {
            case "GetUser" or "RenameUser" or "ChangeRole":
                Assert.Equal(target.Id.ToString(), body["data"]!["id"]!.GetValue<string>());
                break;
            case "ListUsers":
                Assert.True(body["meta"]!["total"]!.GetValue<int>() >= 1);
                break;
            case "CreateUser" or "CreateApiKey":
                Assert.NotNull(body["data"]!["id"]);
                break;
        }
    }

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
