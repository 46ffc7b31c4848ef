using Groundwork.Features.ApiKeys;
using System.Net.Http.Json;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.ApiKeys;

public abstract class ApiKeysTests(GroundworkApp app)
{
    private HttpClient KeyClient(string secret)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", secret);
        return client;
    }

    [Fact]
    public async Task Create_shows_the_secret_once_and_stores_only_its_hash()
    {
        var user = await app.ActorAsync();
        var response = await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "deploy", scopes = new[] { "users:read", "posts:read" } });
        var body = await response.AssertStatus(201);
        var data = body["data"]!;
        var secret = data["secret"]!.GetValue<string>();
        var id = Guid.Parse(data["id"]!.GetValue<string>());
        Assert.StartsWith("gw_", secret, StringComparison.Ordinal);
        Assert.Equal(["posts:read", "users:read"], data["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal($"/api/v1/api-keys/{id}", response.Headers.Location!.OriginalString);

        var stored = await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().ApiKeys.AsNoTracking().SingleAsync(k => k.Id == id));
        Assert.NotEqual(secret, stored.SecretHash);
        Assert.Equal(Secrets.Hash(secret), stored.SecretHash);

        var list = await (await user.Client().GetAsync("/api/v1/api-keys")).AssertStatus(200);
        var listed = list["data"]!.AsArray().Single();
        Assert.Null(listed!["secret"]);
        Assert.Equal(secret[..10], listed["prefix"]!.GetValue<string>());
        var one = await (await user.Client().GetAsync($"/api/v1/api-keys/{id}")).AssertStatus(200);
        Assert.Null(one["data"]!["secret"]);
    }

    [Fact]
    public async Task No_key_can_manage_the_account_whatever_its_scopes_but_it_can_revoke_itself()
    {
        var user = await app.ActorAsync();
        var all = Scopes.All.ToArray();
        var created = await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "everything", scopes = all });
        Assert.Equal("no-store", created.Headers.CacheControl!.ToString());
        var key = await created.AssertStatus(201);
        var keyId = key["data"]!["id"]!.GetValue<string>();
        var other = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "other", scopes = new[] { "posts:read" } })).AssertStatus(201);
        var otherId = other["data"]!["id"]!.GetValue<string>();
        var client = KeyClient(key["data"]!["secret"]!.GetValue<string>());

        await (await client.GetAsync("/api/v1/auth/sessions")).AssertError(403, "AUTHORIZATION_ERROR");
        await (await client.GetAsync("/api/v1/api-keys")).AssertError(403, "AUTHORIZATION_ERROR");
        await (await client.GetAsync($"/api/v1/api-keys/{otherId}")).AssertError(403, "AUTHORIZATION_ERROR");
        await (await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "child", scopes = new[] { "posts:read" } })).AssertError(403, "AUTHORIZATION_ERROR");
        await (await client.PostAsJsonAsync("/api/v1/auth/password", new { currentPassword = user.Password, newPassword = "taken-over-1" })).AssertError(403, "AUTHORIZATION_ERROR");
        await (await client.DeleteAsync($"/api/v1/api-keys/{otherId}")).AssertError(403, "AUTHORIZATION_ERROR");
        Assert.Null(await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().ApiKeys.Where(k => k.Id == Guid.Parse(otherId)).Select(k => k.RevokedAt).SingleAsync()));

        await (await client.DeleteAsync($"/api/v1/api-keys/{keyId}")).AssertStatus(204);
        await (await client.GetAsync($"/api/v1/users/{user.Id}")).AssertError(401, "AUTHENTICATION_ERROR");
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).AssertStatus(200);
    }

    [Fact]
    public async Task An_admins_key_runs_ledger_verification_only_with_accounts_read()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var narrow = await (await admin.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "posts", scopes = new[] { "posts:read" } })).AssertStatus(201);
        await (await KeyClient(narrow["data"]!["secret"]!.GetValue<string>()).GetAsync("/api/v1/admin/ledger/verify")).AssertError(403, "AUTHORIZATION_ERROR");
        var reader = await (await admin.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "ledger", scopes = new[] { "accounts:read" } })).AssertStatus(201);
        var report = await (await KeyClient(reader["data"]!["secret"]!.GetValue<string>()).GetAsync("/api/v1/admin/ledger/verify")).AssertStatus(200);
        Assert.True(report["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_key_acts_as_its_owner_narrowed_to_its_scopes_and_records_last_use()
    {
        var user = await app.ActorAsync();
        var key = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "reader", scopes = new[] { "users:read" } })).AssertStatus(201);
        var client = KeyClient(key["data"]!["secret"]!.GetValue<string>());

        var self = await (await client.GetAsync($"/api/v1/users/{user.Id}")).AssertStatus(200);
        Assert.Equal(user.Email, self["data"]!["email"]!.GetValue<string>());
        // users:write is not in the key, even though the owner may rename themselves.
        await (await client.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "Via Key" })).AssertError(403, "AUTHORIZATION_ERROR");
        // users:read does not lift a plain user to listing users: never wider than the owner's role.
        await (await client.GetAsync("/api/v1/users")).AssertError(403, "AUTHORIZATION_ERROR");
        // Keys cannot mint keys.
        await (await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "child", scopes = new[] { "users:read" } })).AssertError(403, "AUTHORIZATION_ERROR");

        var id = Guid.Parse(key["data"]!["id"]!.GetValue<string>());
        // Recorded in memory on use, written by the write-behind flush (every few seconds; here, now).
        await app.Service<Groundwork.Platform.WriteBehind.WriteBehindFlusher>().FlushAsync(CancellationToken.None);
        var lastUsed = await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().ApiKeys.Where(k => k.Id == id).Select(k => k.LastUsedAt).SingleAsync());
        Assert.NotNull(lastUsed);
    }

    /// <summary>
    /// A key reads its owner's own profile with any scope, on every transport alike (REST's /auth/me and GraphQL's
    /// me agreed only since GraphQL's field rule stopped asking a key for users:read on the caller's own address);
    /// another user's address, reached as a post's author, still needs staff and users:read.
    /// </summary>
    [Fact]
    public async Task A_key_of_any_scope_reads_its_owners_address_on_rest_and_graphql_alike_and_no_one_elses()
    {
        var user = await app.ActorAsync();
        var postsOnly = KeyClient((await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "posts", scopes = new[] { "posts:read" } })).AssertStatus(201))["data"]!["secret"]!.GetValue<string>());
        var rest = await (await postsOnly.GetAsync("/api/v1/auth/me")).AssertStatus(200);
        var graphql = (await postsOnly.GraphQLAsync("{ me { id email role } }")).AssertData();
        Assert.Equal(user.Email, rest["data"]!["email"]!.GetValue<string>());
        Assert.Equal((user.Id.ToString(), user.Email, "USER"), (graphql["me"]!["id"]!.GetValue<string>(), graphql["me"]!["email"]!.GetValue<string>(), graphql["me"]!["role"]!.GetValue<string>()));

        // Someone else's address through a post's author: staff only, and a staff key needs users:read.
        var author = await app.ActorAsync();
        var title = "Authored " + Guid.NewGuid().ToString("N")[..8];
        var post = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title, content = "c", published = true })).AssertStatus(201);
        var query = $$"""{ post(id: "{{post["data"]!["id"]!.GetValue<string>()}}") { author { email } } }""";
        (await postsOnly.GraphQLAsync(query)).AssertError("AUTHORIZATION_ERROR");
        var admin = await app.ActorAsync(Role.Admin);
        var staffPostsOnly = KeyClient((await (await admin.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "posts", scopes = new[] { "posts:read" } })).AssertStatus(201))["data"]!["secret"]!.GetValue<string>());
        (await staffPostsOnly.GraphQLAsync(query)).AssertError("AUTHORIZATION_ERROR");
        var staffReader = KeyClient((await (await admin.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "reader", scopes = new[] { "posts:read", "users:read" } })).AssertStatus(201))["data"]!["secret"]!.GetValue<string>());
        Assert.Equal(author.Email, (await staffReader.GraphQLAsync(query)).AssertData()["post"]!["author"]!["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task Revoked_expired_and_unknown_keys_are_401()
    {
        var user = await app.ActorAsync();
        var key = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "temp", scopes = new[] { "users:read" } })).AssertStatus(201);
        var secret = key["data"]!["secret"]!.GetValue<string>();
        var id = key["data"]!["id"]!.GetValue<string>();
        await (await KeyClient(secret).GetAsync($"/api/v1/users/{user.Id}")).AssertStatus(200);

        var stranger = await app.ActorAsync();
        await (await stranger.Client().DeleteAsync($"/api/v1/api-keys/{id}")).AssertError(404, "NOT_FOUND");
        Assert.Equal(204, (int)(await user.Client().DeleteAsync($"/api/v1/api-keys/{id}")).StatusCode);
        await (await KeyClient(secret).GetAsync($"/api/v1/users/{user.Id}")).AssertError(401, "AUTHENTICATION_ERROR");

        var expiring = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys",
            new { name = "short", scopes = new[] { "users:read" }, expiresAt = DateTime.UtcNow.AddHours(1) })).AssertStatus(201);
        var expiringSecret = expiring["data"]!["secret"]!.GetValue<string>();
        await (await KeyClient(expiringSecret).GetAsync($"/api/v1/users/{user.Id}")).AssertStatus(200);
        // Its expiry passes (moved into the past rather than waited for: no test waits on the clock).
        var expiringId = Guid.Parse(expiring["data"]!["id"]!.GetValue<string>());
        await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().ApiKeys.Where(k => k.Id == expiringId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));
        // As if the node's one-second cached answer had run out too (a real expiry is checked on every hit).
        app.Service<ApiKeyStatus>().Forget(Secrets.Hash(expiringSecret));
        await (await KeyClient(expiringSecret).GetAsync($"/api/v1/users/{user.Id}")).AssertError(401, "AUTHENTICATION_ERROR");

        await (await KeyClient("gw_" + new string('a', 43)).GetAsync($"/api/v1/users/{user.Id}")).AssertError(401, "AUTHENTICATION_ERROR");
        await (await KeyClient("not-a-key").GetAsync($"/api/v1/users/{user.Id}")).AssertError(401, "AUTHENTICATION_ERROR");
    }

    [Fact]
    public async Task An_admins_key_with_users_read_can_list_users()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var key = await (await admin.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "admin-reader", scopes = new[] { "users:read" } })).AssertStatus(201);
        var client = KeyClient(key["data"]!["secret"]!.GetValue<string>());
        await (await client.GetAsync($"/api/v1/users?q={Uri.EscapeDataString(admin.Email)}")).AssertStatus(200);
        await (await client.PostAsJsonAsync("/api/v1/users", new { email = GroundworkApp.UniqueEmail(), name = "X", password = "password-123" }))
            .AssertError(403, "AUTHORIZATION_ERROR");
    }

    [Theory]
    [InlineData("{\"name\":\"k\",\"scopes\":[\"everything\"]}", "scopes[0]")]
    [InlineData("{\"name\":\"k\",\"scopes\":[]}", "scopes")]
    [InlineData("{\"name\":\"\",\"scopes\":[\"users:read\"]}", "name")]
    [InlineData("{\"name\":\"k\",\"scopes\":[\"users:read\"],\"expiresAt\":\"2001-01-01T00:00:00Z\"}", "expiresAt")]
    public async Task Invalid_key_requests_are_400_and_create_nothing(string json, string field)
    {
        var user = await app.ActorAsync();
        var response = await user.Client().PostAsync("/api/v1/api-keys", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var error = await response.AssertError(400, "VALIDATION_ERROR");
        Assert.Contains(field, error.Fields());
        Assert.False(await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().ApiKeys.AnyAsync(k => k.UserId == user.Id)));
    }
}

public sealed class ApiKeysTestsOnSqlite(SqliteApp app) : ApiKeysTests(app), IClassFixture<SqliteApp>;

public sealed class ApiKeysTestsOnPostgres(PostgresApp app) : ApiKeysTests(app), IClassFixture<PostgresApp>;
