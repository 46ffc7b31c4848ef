using Groundwork.Features.Users;
using Groundwork.Features.Auth;
using Groundwork.Features.ApiKeys;
using System.Net;
using System.Net.Http.Json;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Users;

public abstract class UsersTests(GroundworkApp app)
{
    private Task<T> Db<T>(Func<GroundworkDbContext, Task<T>> query) =>
        app.WithScopeAsync(sp => query(sp.GetRequiredService<GroundworkDbContext>()));

    [Theory]
    [InlineData("lower(name), id", "ix_users_lower_name_id")]
    [InlineData("created_at DESC, id DESC", "ix_users_created_at_id")]
    [InlineData("normalized_email, id", "ix_users_normalized_email")]
    public async Task Every_users_list_sort_is_served_by_an_index(string orderBy, string index)
    {
        // The plan for the first page of each sort, with sequential scans priced out where the provider allows it:
        // an index that can deliver the order is chosen; without one the plan would sort.
        var plan = await app.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<GroundworkDbContext>();
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            var select = $"SELECT id FROM users WHERE deleted_at IS NULL ORDER BY {orderBy} LIMIT 20";
            command.CommandText = app.Provider == Provider.Postgres
                ? $"SET enable_seqscan = off; SET enable_sort = off; EXPLAIN {select}"
                : $"EXPLAIN QUERY PLAN {select}";
            var lines = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetValue(reader.FieldCount - 1)?.ToString() ?? "");
            }

            return string.Join("\n", lines);
        });
        Assert.Contains(index, plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_lists_users_with_filters_sort_paging_and_links()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var tag = Guid.NewGuid().ToString("N")[..10];
        foreach (var name in new[] { "Carol", "alice", "Bob" })
        {
            await app.CreateUserAsync($"{tag}-{name}@example.com", $"{name} {tag}", "password-123");
        }

        var client = admin.Client();
        var page1 = await (await client.GetAsync($"/api/v1/users?q={tag.ToUpperInvariant()}&sort=name&order=asc&limit=2")).AssertStatus(200);
        var names = page1["data"]!.AsArray().Select(u => u!["name"]!.GetValue<string>()).ToList();
        Assert.Equal([$"alice {tag}", $"Bob {tag}"], names.Select(n => n).ToList());
        Assert.Equal(1, page1["meta"]!["page"]!.GetValue<int>());
        Assert.Equal(2, page1["meta"]!["limit"]!.GetValue<int>());
        Assert.Equal(3, page1["meta"]!["total"]!.GetValue<int>());
        Assert.Equal(2, page1["meta"]!["totalPages"]!.GetValue<int>());
        var links = page1["links"]!;
        Assert.Null(links["prev"]);
        Assert.Contains("page=2", links["next"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains($"q={tag.ToUpperInvariant()}", links["next"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("page=1", links["first"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("page=2", links["last"]!.GetValue<string>(), StringComparison.Ordinal);

        var page2 = await (await client.GetAsync(links["next"]!.GetValue<string>())).AssertStatus(200);
        Assert.Equal($"Carol {tag}", page2["data"]!.AsArray().Single()!["name"]!.GetValue<string>());
        Assert.Null(page2["links"]!["next"]);
        Assert.NotNull(page2["links"]!["prev"]);

        var snake = await (await client.GetAsync($"/api/v1/users?q={tag}&sort=created_at&order=desc")).AssertStatus(200);
        Assert.Equal($"Bob {tag}", snake["data"]!.AsArray()[0]!["name"]!.GetValue<string>());

        var byRole = await (await client.GetAsync($"/api/v1/users?role=admin&q={admin.Email}")).AssertStatus(200);
        Assert.Equal(admin.Id.ToString(), byRole["data"]!.AsArray().Single()!["id"]!.GetValue<string>());
        var none = await (await client.GetAsync($"/api/v1/users?role=moderator&q={tag}")).AssertStatus(200);
        Assert.Empty(none["data"]!.AsArray());
        Assert.Equal(0, none["meta"]!["total"]!.GetValue<int>());

        var future = Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(5).ToString("O"));
        var after = await (await client.GetAsync($"/api/v1/users?q={tag}&createdAfter={future}")).AssertStatus(200);
        Assert.Empty(after["data"]!.AsArray());
        var before = await (await client.GetAsync($"/api/v1/users?q={tag}&createdBefore={future}")).AssertStatus(200);
        Assert.Equal(3, before["meta"]!["total"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("page=0", "page")]
    [InlineData("page=abc", "page")]
    [InlineData("sort=password", "sort")]
    [InlineData("order=sideways", "order")]
    [InlineData("role=superuser", "role")]
    [InlineData("createdAfter=yesterday", "createdAfter")]
    [InlineData("colour=blue", "colour")]
    public async Task Bad_list_parameters_are_400_naming_the_field(string query, string field)
    {
        var admin = await app.ActorAsync(Role.Admin);
        var error = await (await admin.Client().GetAsync($"/api/v1/users?{query}")).AssertError(400, "VALIDATION_ERROR");
        Assert.Contains(field, error.Fields());
    }

    [Fact]
    public async Task Admin_creates_a_user_with_a_role_and_a_user_cannot()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        var email = GroundworkApp.UniqueEmail("made");

        await (await user.Client().PostAsJsonAsync("/api/v1/users", new { email, name = "Mod", password = "password-123", role = "moderator" }))
            .AssertError(403, "AUTHORIZATION_ERROR");
        Assert.False(await Db(db => db.Users.AnyAsync(u => u.NormalizedEmail == email)));

        // One role, by name: "user, moderator" was read as User | Moderator, a role no one wrote.
        foreach (var listed in new[] { "user, moderator", "admin,user", "moderator, admin", "2" })
        {
            var refused = await (await admin.Client().PostAsJsonAsync("/api/v1/users", new { email, name = "Mod", password = "password-123", role = listed }))
                .AssertError(400, "VALIDATION_ERROR");
            Assert.Equal("role", Assert.Single(refused.Fields()));
        }

        Assert.False(await Db(db => db.Users.AnyAsync(u => u.NormalizedEmail == email)));
        var created = await admin.Client().PostAsJsonAsync("/api/v1/users", new { email, name = "Mod", password = "password-123", role = "moderator" });
        var body = await created.AssertStatus(201);
        Assert.Equal("moderator", body["data"]!["role"]!.GetValue<string>());
        Assert.Equal(Role.Moderator, await Db(db => db.Users.Where(u => u.NormalizedEmail == email).Select(u => u.Role).SingleAsync()));
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email, password = "password-123" })).AssertStatus(200);
    }

    [Fact]
    public async Task Users_see_themselves_but_others_are_not_found_while_staff_see_everyone()
    {
        var user = await app.ActorAsync();
        var other = await app.ActorAsync();
        var moderator = await app.ActorAsync(Role.Moderator);

        var self = await (await user.Client().GetAsync($"/api/v1/users/{user.Id}")).AssertStatus(200);
        Assert.Equal(user.Email, self["data"]!["email"]!.GetValue<string>());
        await (await user.Client().GetAsync($"/api/v1/users/{other.Id}")).AssertError(404, "NOT_FOUND");
        await (await user.Client().GetAsync($"/api/v1/users/{Guid.CreateVersion7()}")).AssertError(404, "NOT_FOUND");
        await (await moderator.Client().GetAsync($"/api/v1/users/{other.Id}")).AssertStatus(200);
        await (await user.Client().GetAsync("/api/v1/users")).AssertError(403, "AUTHORIZATION_ERROR");
        await (await moderator.Client().GetAsync("/api/v1/users")).AssertStatus(200);
    }

    [Fact]
    public async Task Get_has_an_etag_and_if_none_match_answers_304()
    {
        var user = await app.ActorAsync();
        var client = user.Client();
        var first = await client.GetAsync($"/api/v1/users/{user.Id}");
        var etag = first.Headers.ETag!.Tag;
        Assert.Equal("\"v1\"", etag);

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/users/{user.Id}");
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        var notModified = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        (await client.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "Renamed" })).EnsureSuccessStatusCode();
        var again = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/users/{user.Id}");
        again.Headers.TryAddWithoutValidation("If-None-Match", etag);
        var changed = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal("\"v2\"", changed.Headers.ETag!.Tag);
    }

    /// <summary>
    /// Names are shown to others: characters that reorder or split what is displayed are refused (a user named
    /// "\u202Eredro" shows as "order"), for users and API keys alike; the joiners and marks scripts need are kept.
    /// </summary>
    [Fact]
    public async Task A_name_that_would_display_as_something_else_is_refused()
    {
        var user = await app.ActorAsync();
        foreach (var name in new[] { "\u202Eredro", "a\u2066b", "line\u2028break", "tab\tname" })
        {
            var refused = await (await user.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name })).AssertError(400, "VALIDATION_ERROR");
            Assert.Equal(["name"], refused.Fields());
            var key = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name, scopes = new[] { "posts:read" } })).AssertError(400, "VALIDATION_ERROR");
            Assert.Equal(["name"], key.Fields());
        }

        Assert.Equal(0, await Db(db => db.ApiKeys.CountAsync(k => k.UserId == user.Id)));
        // Persian needs the zero-width non-joiner, and emoji sequences the joiner.
        const string persian = "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645";
        var renamed = await (await user.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = persian })).AssertStatus(200);
        Assert.Equal(persian, renamed["data"]!["name"]!.GetValue<string>());
        Assert.Equal(persian, await Db(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.Name).SingleAsync()));
    }

    /// <summary>Demoting or deleting the only admin would leave nobody to manage the service: refused, nothing changed.</summary>
    [Fact]
    public async Task The_only_admin_can_be_neither_demoted_nor_deleted()
    {
        var admin = await app.ActorAsync(Role.Admin);
        // Every other admin of this test database steps down, directly (the rule under test would stop the last one).
        await Db(db => db.Users.Where(u => u.Role == Role.Admin && u.Id != admin.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.Role, Role.User)));

        var demoted = await (await admin.Client().PatchAsJsonAsync($"/api/v1/users/{admin.Id}", new { role = "user" })).AssertError(409, "CONFLICT");
        Assert.Contains("only admin", demoted["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await (await admin.Client().DeleteAsync($"/api/v1/users/{admin.Id}")).AssertError(409, "CONFLICT");
        Assert.Equal(Role.Admin, await Db(db => db.Users.Where(u => u.Id == admin.Id).Select(u => u.Role).SingleAsync()));

        // With a second admin, the first may step down; the second is then the only one.
        var second = await app.ActorAsync(Role.Admin);
        var stepped = await (await admin.Client().PatchAsJsonAsync($"/api/v1/users/{admin.Id}", new { role = "user" })).AssertStatus(200);
        Assert.Equal("user", stepped["data"]!["role"]!.GetValue<string>());
        await (await second.Client().DeleteAsync($"/api/v1/users/{second.Id}")).AssertError(409, "CONFLICT");
        Assert.Equal(1, await Db(db => db.Users.CountAsync(u => u.Role == Role.Admin)));
    }

    [Fact]
    public async Task Patch_changes_own_name_and_email_and_if_match_guards_lost_updates()
    {
        var user = await app.ActorAsync();
        var client = user.Client();
        var newEmail = GroundworkApp.UniqueEmail("moved");

        var patched = await client.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "New Name", email = newEmail });
        var body = await patched.AssertStatus(200);
        Assert.Equal("New Name", body["data"]!["name"]!.GetValue<string>());
        Assert.Equal(newEmail, body["data"]!["email"]!.GetValue<string>());
        Assert.Equal("\"v2\"", patched.Headers.ETag!.Tag);

        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/users/{user.Id}") { Content = JsonContent.Create(new { name = "Lost Update" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"v1\"");
        await (await client.SendAsync(stale)).AssertError(412, "PRECONDITION_FAILED");
        Assert.Equal("New Name", await Db(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.Name).SingleAsync()));

        var fresh = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/users/{user.Id}") { Content = JsonContent.Create(new { name = "Kept Update" }) };
        fresh.Headers.TryAddWithoutValidation("If-Match", "\"v2\"");
        await (await client.SendAsync(fresh)).AssertStatus(200);
        Assert.Equal("Kept Update", await Db(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.Name).SingleAsync()));
    }

    [Fact]
    public async Task Only_admins_change_roles()
    {
        var user = await app.ActorAsync();
        var moderator = await app.ActorAsync(Role.Moderator);
        var admin = await app.ActorAsync(Role.Admin);

        await (await user.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "admin" })).AssertError(403, "AUTHORIZATION_ERROR");
        await (await moderator.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "Mod Edit" })).AssertError(403, "AUTHORIZATION_ERROR");
        Assert.Equal(Role.User, await Db(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.Role).SingleAsync()));

        var promoted = await (await admin.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "moderator" })).AssertStatus(200);
        Assert.Equal("moderator", promoted["data"]!["role"]!.GetValue<string>());
        // The new role applies to the user's existing token at once on this node (its cached session status is
        // dropped when the change commits; other nodes follow within the cache's one second).
        await (await user.Client().GetAsync("/api/v1/users")).AssertStatus(200);
    }

    [Fact]
    public async Task Patch_to_a_taken_email_is_409()
    {
        var user = await app.ActorAsync();
        var other = await app.ActorAsync();
        var error = await (await user.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { email = other.Email.ToUpperInvariant() })).AssertError(409, "CONFLICT");
        Assert.Contains("email", error.Fields());
    }

    [Fact]
    public async Task Deleting_a_user_revokes_sessions_and_api_keys_and_frees_the_email()
    {
        var user = await app.ActorAsync();
        var key = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "ci", scopes = new[] { "users:read" } })).AssertStatus(201);
        var secret = key["data"]!["secret"]!.GetValue<string>();

        Assert.Equal(204, (int)(await user.Client().DeleteAsync($"/api/v1/users/{user.Id}")).StatusCode);

        await (await user.Client().GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");
        var keyClient = app.CreateClient();
        keyClient.DefaultRequestHeaders.Add("X-API-Key", secret);
        await (await keyClient.GetAsync($"/api/v1/users/{user.Id}")).AssertError(401, "AUTHENTICATION_ERROR");
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken })).AssertError(401, "AUTHENTICATION_ERROR");
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).AssertError(401, "AUTHENTICATION_ERROR");

        Assert.True(await Db(db => db.Sessions.Where(s => s.UserId == user.Id).AllAsync(s => s.RevokedAt != null)));
        Assert.True(await Db(db => db.ApiKeys.Where(k => k.UserId == user.Id).AllAsync(k => k.RevokedAt != null)));
        Assert.True(await Db(db => db.Users.IgnoreQueryFilters().AnyAsync(u => u.Id == user.Id && u.DeletedAt != null)));

        var admin = await app.ActorAsync(Role.Admin);
        await (await admin.Client().GetAsync($"/api/v1/users/{user.Id}")).AssertError(404, "NOT_FOUND");
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/register", new { email = user.Email, name = "Again", password = "password-123" })).AssertStatus(201);
    }

    [Fact]
    public async Task Users_cannot_delete_others_and_moderators_are_forbidden_while_admins_can()
    {
        var user = await app.ActorAsync();
        var victim = await app.ActorAsync();
        var moderator = await app.ActorAsync(Role.Moderator);
        var admin = await app.ActorAsync(Role.Admin);

        await (await user.Client().DeleteAsync($"/api/v1/users/{victim.Id}")).AssertError(404, "NOT_FOUND");
        await (await moderator.Client().DeleteAsync($"/api/v1/users/{victim.Id}")).AssertError(403, "AUTHORIZATION_ERROR");
        Assert.True(await Db(db => db.Users.AnyAsync(u => u.Id == victim.Id)));

        var stale = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/users/{victim.Id}");
        stale.Headers.TryAddWithoutValidation("If-Match", "\"v9\"");
        await (await admin.Client().SendAsync(stale)).AssertError(412, "PRECONDITION_FAILED");
        Assert.True(await Db(db => db.Users.AnyAsync(u => u.Id == victim.Id)));

        Assert.Equal(204, (int)(await admin.Client().DeleteAsync($"/api/v1/users/{victim.Id}")).StatusCode);
        Assert.False(await Db(db => db.Users.AnyAsync(u => u.Id == victim.Id)));
    }
}

public sealed class UsersTestsOnSqlite(SqliteApp app) : UsersTests(app), IClassFixture<SqliteApp>;

public sealed class UsersTestsOnPostgres(PostgresApp app) : UsersTests(app), IClassFixture<PostgresApp>;
