using Groundwork.Features.Users;
using System.Net.Http.Json;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Platform;

/// <summary>An app with small limits, so each limit can be reached in a test.</summary>
public sealed class TightLimitsApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:RateLimits:Default"] = "100000",
    ["Groundwork:RateLimits:LoginPerIp"] = "8",
    ["Groundwork:RateLimits:LoginPerAccount"] = "3",
    ["Groundwork:RateLimits:RegisterPerIp"] = "2",
});

public sealed class DefaultLimitApp() : SqliteAppWith(new Dictionary<string, string?>
{
    ["Groundwork:RateLimits:Default"] = "5",
    ["Groundwork:RateLimits:LoginPerIp"] = "100",
})
{
    protected override bool RealServer => true;
}

public sealed class LoginAndRegisterLimitTests(TightLimitsApp app) : IClassFixture<TightLimitsApp>
{
    [Fact]
    public async Task Login_is_limited_per_account_then_per_ip_with_retry_after_and_ratelimit_headers()
    {
        var client = app.CreateClient();
        var target = GroundworkApp.UniqueEmail("target");
        for (var i = 0; i < 3; i++)
        {
            await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = target, password = "guess-" + i })).AssertError(401, "AUTHENTICATION_ERROR");
        }

        var limited = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = target, password = "guess-x" });
        await limited.AssertError(429, "RATE_LIMITED");
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.StartsWith("\"login-account\";q=3;w=60", limited.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
        Assert.StartsWith("\"login-account\";r=0;t=", limited.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
        Assert.Equal("no-store", limited.Headers.CacheControl!.ToString());

        // Other accounts from the same IP still get through until the per-IP budget (8) is spent.
        for (var i = 0; i < 4; i++)
        {
            await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = GroundworkApp.UniqueEmail("other"), password = "whatever-1" })).AssertError(401, "AUTHENTICATION_ERROR");
        }

        var byIp = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = GroundworkApp.UniqueEmail("late"), password = "whatever-1" });
        await byIp.AssertError(429, "RATE_LIMITED");
        Assert.StartsWith("\"login-ip\"", byIp.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_is_limited_per_ip()
    {
        var client = app.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            await (await client.PostAsJsonAsync("/api/v1/auth/register", new { email = GroundworkApp.UniqueEmail(), name = "N", password = "password-1" })).AssertStatus(201);
        }

        var email = GroundworkApp.UniqueEmail("blocked");
        var limited = await client.PostAsJsonAsync("/api/v1/auth/register", new { email, name = "N", password = "password-1" });
        await limited.AssertError(429, "RATE_LIMITED");
        Assert.True(limited.Headers.Contains("Retry-After"));
        Assert.False(await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Users.AnyAsync(u => u.NormalizedEmail == email)));
    }
}

public sealed class DefaultLimitTests(DefaultLimitApp app) : IClassFixture<DefaultLimitApp>
{
    [Fact]
    public async Task Default_limit_applies_per_principal_with_headers()
    {
        var actor = await app.ActorAsync();
        var client = actor.Client();
        var first = await client.GetAsync("/api/v1/auth/me");
        await first.AssertStatus(200);
        Assert.Equal("\"default\";q=5;w=60", first.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("\"default\";r=4;t=", first.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);

        for (var i = 0; i < 4; i++)
        {
            await (await client.GetAsync("/api/v1/auth/me")).AssertStatus(200);
        }

        var limited = await client.GetAsync("/api/v1/auth/me");
        await limited.AssertError(429, "RATE_LIMITED");
        Assert.True(limited.Headers.Contains("Retry-After"));

        // Another principal has its own bucket.
        var other = await app.ActorAsync();
        await (await other.Client().GetAsync("/api/v1/auth/me")).AssertStatus(200);
    }
}

/// <summary>One principal, one default bucket, whichever transport it calls through.</summary>
public sealed class DefaultLimitAcrossTransportsTests(DefaultLimitApp app) : IClassFixture<DefaultLimitApp>
{
    [Fact]
    public async Task REST_GraphQL_and_gRPC_draw_on_the_same_bucket_and_refuse_in_their_own_shapes()
    {
        var actor = await app.ActorAsync();
        var client = actor.Client();
        using var channel = app.GrpcChannel();
        var users = new Groundwork.Api.V1.UserService.UserServiceClient(channel);
        var bearer = Transports.GrpcTests.Bearer(actor.AccessToken);
        // The bucket holds 5: REST, GraphQL, gRPC, REST, GraphQL take them all.
        for (var i = 0; i < 2; i++)
        {
            await (await client.GetAsync("/api/v1/auth/me")).AssertStatus(200);
            (await GraphQLClient.GraphQLAsync(client, "{ me { id } }")).AssertData();
            if (i == 0)
            {
                Assert.Equal(actor.Email, (await users.GetMeAsync(new Groundwork.Api.V1.GetMeRequest(), bearer)).Email);
            }
        }

        var graphQL = await GraphQLClient.GraphQLAsync(client, "{ me { id } }");
        graphQL.AssertError("RATE_LIMITED", 429);
        Assert.True(graphQL.Http.Headers.Contains("Retry-After"));
        Assert.Null(graphQL.Body["data"]);

        var status = await Transports.GrpcTests.AssertRpcError(async () => await users.GetMeAsync(new Groundwork.Api.V1.GetMeRequest(), bearer),
            Grpc.Core.StatusCode.ResourceExhausted, "RATE_LIMITED");
        Assert.True(status.GetDetail<Google.Rpc.RetryInfo>()!.RetryDelay.Seconds > 0);
        await (await client.GetAsync("/api/v1/auth/me")).AssertError(429, "RATE_LIMITED");
    }
}
