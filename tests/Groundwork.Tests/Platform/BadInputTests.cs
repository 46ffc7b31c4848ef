using Groundwork.Features.Users;
using Groundwork.Features.Auth;
using Groundwork.Features.ApiKeys;
using System.Net.Http.Headers;
using System.Text;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Platform;

/// <summary>
/// Every JSON body of this slice against hostile and sloppy input: the right 4xx envelope, naming the field,
/// and nothing written.
/// </summary>
public abstract class BadInputTests(GroundworkApp app)
{
    public sealed record Body(string Method, string Path, bool Admin);

    /// <summary>The body-taking endpoints; {self} is replaced with the caller's id.</summary>
    public static TheoryData<string, string, bool> Bodies => new()
    {
        { "POST", "/api/v1/auth/register", false },
        { "POST", "/api/v1/auth/login", false },
        { "POST", "/api/v1/auth/refresh", false },
        { "POST", "/api/v1/auth/password", false },
        { "POST", "/api/v1/users", true },
        { "PATCH", "/api/v1/users/{self}", false },
        { "POST", "/api/v1/api-keys", false },
    };

    private async Task<(HttpClient Client, string Path)> Prepare(string path, bool admin)
    {
        var actor = await app.ActorAsync(admin ? Role.Admin : Role.User);
        return (actor.Client(), path.Replace("{self}", actor.Id.ToString(), StringComparison.Ordinal));
    }

    private async Task<string> Fingerprint() => await app.WithScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<GroundworkDbContext>();
        var users = await db.Users.IgnoreQueryFilters().CountAsync();
        var versions = await db.Users.IgnoreQueryFilters().SumAsync(u => u.Version);
        var sessions = await db.Sessions.CountAsync();
        var revoked = await db.Sessions.CountAsync(s => s.RevokedAt != null);
        var keys = await db.ApiKeys.CountAsync();
        var tokens = await db.RefreshTokens.CountAsync();
        return $"{users}/{versions}/{sessions}/{revoked}/{keys}/{tokens}";
    });

    private static HttpRequestMessage Request(string method, string path, string content, string contentType = "application/json") =>
        new(new HttpMethod(method), path) { Content = new StringContent(content, Encoding.UTF8) { Headers = { ContentType = MediaTypeHeaderValue.Parse(contentType) } } };

    private async Task AssertRejected(string method, string path, bool admin, string content, int status, string code, string? field = null, string contentType = "application/json")
    {
        var (client, realPath) = await Prepare(path, admin);
        var before = await Fingerprint();
        var response = await client.SendAsync(Request(method, realPath, content, contentType));
        var error = await response.AssertError(status, code);
        if (field is not null)
        {
            Assert.Contains(field, error.Fields());
        }

        Assert.Equal(before, await Fingerprint());
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task Malformed_json_is_400(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "{,\"a\": ", 400, "VALIDATION_ERROR", "body");

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task Unknown_property_is_400_naming_it(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "{\"isAdmin\": true}", 400, "VALIDATION_ERROR", "isAdmin");

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task Empty_object_is_400(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "{}", 400, "VALIDATION_ERROR");

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task Missing_body_is_400(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "", 400, "VALIDATION_ERROR", "body");

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task A_null_body_is_400_naming_the_body(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "null", 400, "VALIDATION_ERROR", "body");

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task Json_that_is_not_an_object_is_400(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "[1,2,3]", 400, "VALIDATION_ERROR");

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task Wrong_content_type_is_415(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "email=a@b.co", 415, "UNSUPPORTED_MEDIA_TYPE", contentType: "application/x-www-form-urlencoded");

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task Body_over_1_MiB_is_413(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "{\"name\":\"" + new string('a', 1024 * 1024 + 10) + "\"}", 413, "PAYLOAD_TOO_LARGE");

    [Theory]
    [MemberData(nameof(Bodies))]
    public Task Nesting_deeper_than_32_is_400(string method, string path, bool admin) =>
        AssertRejected(method, path, admin, "{\"name\":" + new string('[', 40) + new string(']', 40) + "}", 400, "VALIDATION_ERROR");

    [Theory]
    [InlineData("/api/v1/auth/register", "{\"email\": 42, \"name\": \"A\", \"password\": \"password-1\"}", "email")]
    [InlineData("/api/v1/auth/register", "{\"email\": \"a@b.co\", \"name\": [\"A\"], \"password\": \"password-1\"}", "name")]
    [InlineData("/api/v1/auth/register", "{\"email\": \"a@b.co\", \"name\": \"A\", \"password\": true}", "password")]
    [InlineData("/api/v1/api-keys", "{\"name\": \"k\", \"scopes\": \"users:read\"}", "scopes")]
    [InlineData("/api/v1/api-keys", "{\"name\": \"k\", \"scopes\": [\"users:read\"], \"expiresAt\": \"soon\"}", "expiresAt")]
    // A property sent twice is refused, not read as its last value (a proxy reading the first would see another request).
    [InlineData("/api/v1/auth/register", "{\"email\": \"a@b.co\", \"name\": \"A\", \"password\": \"password-1\", \"email\": \"c@d.co\"}", "email")]
    public Task Wrong_types_are_400_naming_the_field(string path, string json, string field) =>
        AssertRejected("POST", path, false, json, 400, "VALIDATION_ERROR", field);

    [Theory]
    [InlineData("{\"email\": \"not-an-email\", \"name\": \"A\", \"password\": \"password-1\"}", "email")]
    [InlineData("{\"email\": \"a@b.co\", \"name\": \"\", \"password\": \"password-1\"}", "name")]
    [InlineData("{\"email\": \"a@b.co\", \"name\": \"   \", \"password\": \"password-1\"}", "name")]
    [InlineData("{\"email\": \"a@b.co\", \"name\": \"A\", \"password\": \"short\"}", "password")]
    [InlineData("{\"email\": \"a@b.co\", \"name\": \"A\", \"password\": \"ééééééééééééééééééééééééééééééééééééé\"}", "password")]
    [InlineData("{\"email\": \"a@b.co\", \"name\": \"A\", \"password\": null}", "password")]
    public Task Invalid_registration_fields_are_400_naming_the_field(string json, string field) =>
        AssertRejected("POST", "/api/v1/auth/register", false, json, 400, "VALIDATION_ERROR", field);

    [Fact]
    public async Task Too_long_fields_are_400()
    {
        var longEmail = new string('a', 250) + "@b.co";
        await AssertRejected("POST", "/api/v1/auth/register", false,
            $"{{\"email\": \"{longEmail}\", \"name\": \"A\", \"password\": \"password-1\"}}", 400, "VALIDATION_ERROR", "email");
        await AssertRejected("POST", "/api/v1/auth/register", false,
            $"{{\"email\": \"a@b.co\", \"name\": \"{new string('n', 101)}\", \"password\": \"password-1\"}}", 400, "VALIDATION_ERROR", "name");
        await AssertRejected("PATCH", "/api/v1/users/{self}", false,
            $"{{\"name\": \"{new string('n', 101)}\"}}", 400, "VALIDATION_ERROR", "name");
    }

    [Fact]
    public async Task Several_invalid_fields_are_all_reported()
    {
        var response = await app.CreateClient().SendAsync(Request("POST", "/api/v1/auth/register", "{\"email\": \"x\", \"name\": \"\", \"password\": \"1\"}"));
        var error = await response.AssertError(400, "VALIDATION_ERROR");
        Assert.Equal("Invalid input data", error["message"]!.GetValue<string>());
        Assert.Contains("email", error.Fields());
        Assert.Contains("name", error.Fields());
        Assert.Contains("password", error.Fields());
    }

    [Fact]
    public async Task Malformed_ids_in_the_path_are_404_not_500()
    {
        var actor = await app.ActorAsync();
        await (await actor.Client().GetAsync("/api/v1/users/not-a-guid")).AssertError(404, "NOT_FOUND");
        await (await actor.Client().GetAsync("/api/v1/users/' OR 1=1 --")).AssertError(404, "NOT_FOUND");
    }
}

public sealed class BadInputTestsOnSqlite(SqliteApp app) : BadInputTests(app), IClassFixture<SqliteApp>;

public sealed class BadInputTestsOnPostgres(PostgresApp app) : BadInputTests(app), IClassFixture<PostgresApp>;
