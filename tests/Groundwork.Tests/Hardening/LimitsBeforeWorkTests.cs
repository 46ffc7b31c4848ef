using Groundwork.Features.Accounts;
using Groundwork.Features.Posts;
using Groundwork.Features.Users;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Hardening;

/// <summary>Small limits, so each can be reached with a handful of requests.</summary>
public sealed class SmallLimitsApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:RateLimits:Default"] = "100000",
    ["Groundwork:RateLimits:LoginPerIp"] = "100000",
    ["Groundwork:RateLimits:RegisterPerIp"] = "2",
    ["Groundwork:RateLimits:PasswordChangePerAccount"] = "2",
    ["Groundwork:RateLimits:Transfers"] = "3",
    ["Groundwork:GraphQL:MaxResolvedObjects"] = "20",
    ["Groundwork:GraphQL:MaxResponseChars"] = "20000",
    ["Groundwork:Bench:Enabled"] = "true",
});

/// <summary>An app where three failing credentials spend the (test server's single) client address budget.</summary>
public sealed class FailedCredentialsApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:RateLimits:Default"] = "100000",
    ["Groundwork:RateLimits:FailedCredentialsPerIp"] = "3",
});

public sealed class FailedCredentialLimitTests(FailedCredentialsApp app) : IClassFixture<FailedCredentialsApp>
{
    [Fact]
    public async Task Failing_credentials_spend_the_ip_budget_then_are_refused_before_authentication()
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUiLCJ0eXAiOiJhdCtqd3QifQ.e30.c2ln");
        for (var i = 0; i < 3; i++)
        {
            await (await client.GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");
        }

        var refused = await client.GetAsync("/api/v1/auth/me");
        await refused.AssertError(429, "RATE_LIMITED");
        Assert.StartsWith("\"failed-credentials\"", refused.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
        var graphQL = await client.GraphQLAsync("{ me { id } }");
        graphQL.AssertError("RATE_LIMITED", 429);

        // Requests without credentials from the same address are not punished.
        await (await app.CreateClient().GetAsync("/api/v1/posts")).AssertStatus(200);
    }
}

/// <summary>Limits run before validation, authentication work and the database: a refused call costs nothing.</summary>
public sealed class LimitsBeforeWorkTests(SmallLimitsApp app) : IClassFixture<SmallLimitsApp>
{
    [Fact]
    public async Task Invalid_sign_ups_count_against_the_register_limit_because_it_runs_before_validation()
    {
        // A client of its own IP is not available in TestServer, so this test owns the register bucket.
        var client = app.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            await (await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "not-an-email", name = "", password = "x" })).AssertError(400, "VALIDATION_ERROR");
        }

        var email = GroundworkApp.UniqueEmail("valid");
        var limited = await client.PostAsJsonAsync("/api/v1/auth/register", new { email, name = "Valid", password = "long-enough-1" });
        await limited.AssertError(429, "RATE_LIMITED");
        Assert.StartsWith("\"register-ip\"", limited.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
        Assert.False(await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Users.AnyAsync(u => u.NormalizedEmail == email)));
    }

    [Fact]
    public async Task Password_change_guesses_are_limited_per_account()
    {
        var user = await app.ActorAsync();
        for (var i = 0; i < 2; i++)
        {
            var wrong = await user.Client().PostAsJsonAsync("/api/v1/auth/password", new { currentPassword = "guess-" + i, newPassword = "new-password-1" });
            Assert.Contains("currentPassword", (await wrong.AssertError(400, "VALIDATION_ERROR")).Fields());
        }

        // Even the right password is refused now: the bucket is spent before anything is checked.
        var limited = await user.Client().PostAsJsonAsync("/api/v1/auth/password", new { currentPassword = user.Password, newPassword = "new-password-1" });
        await limited.AssertError(429, "RATE_LIMITED");
        Assert.StartsWith("\"password-account\"", limited.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).AssertStatus(200);
    }

    [Fact]
    public async Task Transfers_are_limited_per_user_on_every_transport()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var owner = await app.ActorAsync();
        var from = await MoneyHelpers.OpenAccountAsync(owner);
        var to = await MoneyHelpers.OpenAccountAsync(await app.ActorAsync());
        await MoneyHelpers.DepositAsync(admin, from, 100);
        for (var i = 0; i < 3; i++)
        {
            await (await owner.Client().SendAsync(MoneyHelpers.Post("/api/v1/transfers", new { fromAccountId = from, toAccountId = to, amount = 1 }, Guid.NewGuid().ToString()))).AssertStatus(201);
        }

        await (await owner.Client().SendAsync(MoneyHelpers.Post("/api/v1/transfers", new { fromAccountId = from, toAccountId = to, amount = 1 }, Guid.NewGuid().ToString())))
            .AssertError(429, "RATE_LIMITED");
        var graphQL = await owner.Client().GraphQLAsync(
            "mutation($i: TransferInput!) { transfer(input: $i, idempotencyKey: \"gql-limit\") { id } }",
            new { i = new { fromAccountId = from, toAccountId = to, amount = 1 } });
        graphQL.AssertError("RATE_LIMITED");
        Assert.Equal(97, await MoneyHelpers.BalanceAsync(app, from));
    }

    [Fact]
    public async Task A_graphql_request_that_resolves_more_objects_than_the_cap_is_stopped_with_one_small_error()
    {
        var author = await app.ActorAsync();
        for (var i = 0; i < 25; i++)
        {
            await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = $"Cap {i}", content = new string('c', 1_000), published = true })).AssertStatus(201);
        }

        var within = (await app.CreateClient().GraphQLAsync("{ postsConnection(first: 10) { nodes { id } } }")).AssertData();
        Assert.Equal(10, within["postsConnection"]!["nodes"]!.AsArray().Count);

        var response = await app.CreateClient().GraphQLAsync("{ posts { id title content } }");
        var error = response.AssertError("VALIDATION_ERROR");
        Assert.Contains("20 objects", error["extensions"]!["details"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(response.Data);
        Assert.True(response.Body.ToJsonString().Length < 2_000, "the answer is one error, not the posts resolved so far");
    }

    [Fact]
    public async Task A_graphql_response_that_would_carry_more_text_than_the_budget_is_stopped_with_one_small_error()
    {
        var author = await app.ActorAsync();
        // '<' is the worst case for a JSON writer that escapes for HTML (six bytes each); ours writes it as itself.
        var created = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Big", content = new string('<', 30_000), published = true })).AssertStatus(201);
        var id = created["data"]!["id"]!.GetValue<string>();

        var title = (await app.CreateClient().GraphQLAsync($$"""{ post(id: "{{id}}") { title } }""")).AssertData();
        Assert.Equal("Big", title["post"]!["title"]!.GetValue<string>());

        var response = await app.CreateClient().GraphQLAsync($$"""{ post(id: "{{id}}") { content } }""");
        var error = response.AssertError("VALIDATION_ERROR");
        Assert.Contains("20000 characters", error["extensions"]!["details"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(response.Body.ToJsonString().Length < 2_000);

        // REST writes the same text unescaped: 30,000 characters, not 180,000 bytes of \u003C.
        var rest = await app.CreateClient().GetAsync($"/api/v1/posts/{id}");
        Assert.True((await rest.Content.ReadAsByteArrayAsync()).Length < 31_000);
    }

    [Fact]
    public async Task A_users_posts_batch_holds_no_more_content_than_the_response_may_carry()
    {
        var author = await app.ActorAsync();
        for (var i = 0; i < 2; i++)
        {
            await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = $"Half {i}", content = new string('h', 15_000), published = true })).AssertStatus(201);
        }

        // Without content in the selection, none is read: both posts come back, far under the text budget.
        var titles = (await author.Client().GraphQLAsync("{ me { posts { id title } } }")).AssertData();
        Assert.Equal(["Half 1", "Half 0"], titles["me"]!["posts"]!.AsArray().Select(p => p!["title"]!.GetValue<string>()));

        // With it, 30,000 characters cannot fit in 20,000: the batch is refused while it reads its rows, before any
        // of it is resolved (the resolution budget's own refusal would speak of the response, not of content). Two
        // fields wait on that batch; the refusal stops the request with one error, as the budget does.
        var response = await author.Client().GraphQLAsync("{ a: me { posts { content } } b: me { posts { content } } }");
        var error = response.AssertError("VALIDATION_ERROR");
        Assert.Single(response.Errors);
        Assert.Null(response.Data);
        Assert.Contains("more content than the response may still carry (20000 characters)", error["extensions"]!["details"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(response.Body.ToJsonString().Length < 2_000);
    }

    [Fact]
    public async Task A_mutation_applied_before_the_budget_stopped_its_answer_is_named_and_its_result_can_be_replayed()
    {
        var author = await app.ActorAsync();
        for (var i = 0; i < 2; i++)
        {
            await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = $"Heavy {i}", content = new string('m', 15_000), published = true })).AssertStatus(201);
        }

        // The first root field's post is created, then its answer (the author's posts with their content) cannot fit;
        // the second root field never runs (its own key, so it could not be refused as a reuse of the header's).
        var key = Guid.NewGuid().ToString();
        var client = author.Client();
        client.DefaultRequestHeaders.Add("Idempotency-Key", key);
        var response = await client.GraphQLAsync("""
            mutation {
              first: createPost(input: { title: "Applied", content: "kept", published: true }) { id author { posts { content } } }
              second: createAccount(currency: "EUR", idempotencyKey: "never-run") { id }
            }
            """);
        var error = response.AssertError("VALIDATION_ERROR");
        Assert.Single(response.Errors);
        Assert.Null(response.Data);
        Assert.Equal(["first"], error["extensions"]!["applied"]!.AsArray().Select(a => a!.GetValue<string>()));
        var details = error["extensions"]!["details"]!.AsArray().Select(d => d!["message"]!.GetValue<string>()).ToList();
        Assert.Contains(details, d => d.StartsWith("Applied before the stop, and not undone: first.", StringComparison.Ordinal));
        Assert.True(response.Body.ToJsonString().Length < 2_000);

        var titles = await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Posts
            .Where(p => p.AuthorId == author.Id).Select(p => p.Title).ToListAsync());
        Assert.Equal(["Applied"], titles.Where(t => !t.StartsWith("Heavy", StringComparison.Ordinal)));
        Assert.False(await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Accounts.AnyAsync(a => a.OwnerId == author.Id)));

        // The same key and a smaller selection: the result is replayed, not applied again.
        var replayed = (await client.GraphQLAsync("""mutation { createPost(input: { title: "Applied", content: "kept", published: true }) { id title } }""")).AssertData();
        var ids = await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Posts
            .Where(p => p.AuthorId == author.Id && p.Title == "Applied").Select(p => p.Id).ToListAsync());
        Assert.Equal(ids.Single().ToString(), replayed["createPost"]!["id"]!.GetValue<string>());

        // A query the budget stops names nothing as applied.
        var query = await author.Client().GraphQLAsync("{ me { posts { content } } }");
        Assert.Null(query.AssertError("VALIDATION_ERROR")["extensions"]!["applied"]);
    }

    [Fact]
    public async Task Benchmark_baselines_answer_only_loopback_callers()
    {
        // TestServer requests have no remote address: not loopback, so the route does not exist for them.
        await (await app.CreateClient().GetAsync("/bench/bare-user")).AssertError(404, "NOT_FOUND");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Signing_keys_are_private_to_the_service_user_from_the_first_byte()
    {
        await app.ActorAsync();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(app.KeysPath));
        var keys = Directory.GetFiles(app.KeysPath, "*.pem");
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(k)));
    }
}

/// <summary>A default limit of 6 a minute, to count GraphQL mutations against it.</summary>
public sealed class SixPerMinuteApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:RateLimits:Default"] = "6",
    ["Groundwork:RateLimits:LoginPerIp"] = "100000",
});

public sealed class GraphQLMutationChargeTests(SixPerMinuteApp app) : IClassFixture<SixPerMinuteApp>
{
    private static string Accounts(int count) =>
        "mutation { " + string.Concat(Enumerable.Range(0, count).Select(i => $"a{i}: createAccount(currency: \"{new[] { "EUR", "USD", "GBP", "JPY", "CHF", "SEK", "NOK" }[i]}\") {{ id }} ")) + "}";

    [Fact]
    public async Task Every_aliased_root_mutation_takes_a_token_of_the_default_limit()
    {
        // Three mutations: the request's token and two more, and the RateLimit header counts all three.
        var counted = await app.ActorAsync();
        var three = await counted.Client().GraphQLAsync(Accounts(3));
        three.AssertData();
        Assert.StartsWith("\"default\";r=3;", three.Http.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);

        // Six mutations in one document: the request's token plus five more, the whole bucket.
        var first = await app.ActorAsync();
        (await first.Client().GraphQLAsync(Accounts(6))).AssertData();
        Assert.Equal(6, await MoneyHelpers.Db(app, db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(
            db.Set<Groundwork.Features.Accounts.Account>(), a => a.OwnerId == first.Id)));
        (await first.Client().GraphQLAsync("{ me { id } }")).AssertError("RATE_LIMITED", 429);

        // Seven would need seven tokens: refused whole, nothing created.
        var second = await app.ActorAsync();
        (await second.Client().GraphQLAsync(Accounts(7))).AssertError("RATE_LIMITED", 429);
        Assert.Equal(0, await MoneyHelpers.Db(app, db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(
            db.Set<Groundwork.Features.Accounts.Account>(), a => a.OwnerId == second.Id)));
    }
}

/// <summary>A real server (for a WebSocket client) whose responses may carry 20,000 characters of text.</summary>
public sealed class SmallBudgetServerApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:RateLimits:Default"] = "100000",
    ["Groundwork:GraphQL:MaxResponseChars"] = "20000",
})
{
    protected override bool RealServer => true;
}

/// <summary>Each event of a GraphQL subscription is resolved under a budget of its own, as a request is.</summary>
public sealed class SubscriptionBudgetTests(SmallBudgetServerApp app) : IClassFixture<SmallBudgetServerApp>
{
    [Fact]
    public async Task A_subscription_event_is_held_to_the_budget_of_a_request_of_its_own()
    {
        var author = await app.ActorAsync();
        for (var i = 0; i < 2; i++)
        {
            await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = $"Long {i}", content = new string('l', 15_000), published = true })).AssertStatus(201);
        }

        var reader = await app.ActorAsync();
        await using var socket = await RawGraphQLSocket.ConnectAsync(app);
        await socket.SendAsync(new JsonObject { ["type"] = "connection_init", ["payload"] = new JsonObject { ["Authorization"] = $"Bearer {reader.AccessToken}" } });
        Assert.Equal("connection_ack", (await socket.ReceiveAsync())!["type"]!.GetValue<string>());
        await socket.SendAsync(new JsonObject
        {
            ["id"] = "1",
            ["type"] = "subscribe",
            ["payload"] = new JsonObject { ["query"] = "subscription { postPublished { id author { posts { content } } } }" },
        });
        await app.WaitForStreamOfAsync(reader.Id);

        // The event's author has 30,000 characters of posts: over the 20,000 one response may carry. The event is
        // answered with the one error a request would get, not with the content.
        await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Trigger", content = "t", published = true })).AssertStatus(201);
        var next = (await socket.ReceiveAsync())!;
        Assert.Equal("next", next["type"]!.GetValue<string>());
        var payload = next["payload"]!;
        Assert.Null(payload["data"]);
        var error = Assert.Single(payload["errors"]!.AsArray())!;
        Assert.Equal("VALIDATION_ERROR", error["extensions"]!["code"]!.GetValue<string>());
        Assert.Contains("may still carry", error["extensions"]!["details"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(next.ToJsonString().Length < 2_000);
    }
}
