using System.Net.Http.Json;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Hardening;

/// <summary>A real server (a loopback socket address) with a small login limit and no trusted proxy.</summary>
public class NoProxyApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override bool RealServer => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Groundwork:RateLimits:Default"] = "100000",
        ["Groundwork:RateLimits:LoginPerIp"] = "3",
        ["Groundwork:RateLimits:LoginPerAccount"] = "100",
        ["Groundwork:Bench:Enabled"] = "true",
        ["Groundwork:Shutdown:Drain"] = "0",
    };

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

/// <summary>The same, with the loopback address configured as the load balancer in front.</summary>
public sealed class TrustedProxyApp : NoProxyApp
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Groundwork:Network:KnownProxies"] = "127.0.0.1, ::1",
    };
}

public static class ForwardedLogins
{
    public static Task<HttpResponseMessage> FromAsync(GroundworkApp app, string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login")
        {
            Content = JsonContent.Create(new { email = GroundworkApp.UniqueEmail("guess"), password = "guess-password" }),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return app.CreateClient().SendAsync(request);
    }
}

public sealed class UntrustedForwardedHeadersTests(NoProxyApp app) : IClassFixture<NoProxyApp>
{
    [Fact]
    public async Task A_client_cannot_pick_its_own_address_to_escape_the_per_ip_limit()
    {
        for (var i = 1; i <= 3; i++)
        {
            await (await ForwardedLogins.FromAsync(app, $"198.51.100.{i}")).AssertError(401, "AUTHENTICATION_ERROR");
        }

        var limited = await ForwardedLogins.FromAsync(app, "198.51.100.4");
        await limited.AssertError(429, "RATE_LIMITED");
        Assert.StartsWith("\"login-ip\"", limited.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
    }
}

public sealed class BenchOnLoopbackTests(NoProxyApp app) : IClassFixture<NoProxyApp>
{
    [Fact]
    public async Task The_benchmark_baselines_answer_a_loopback_caller()
    {
        // The other half of LimitsBeforeWorkTests' 404 for a non-loopback caller: the routes exist and serve here.
        var bare = await (await app.CreateClient().GetAsync("/bench/bare-user")).AssertStatus(200);
        Assert.Equal("bench@example.com", bare["data"]!["email"]!.GetValue<string>());
    }
}

public sealed class TrustedForwardedHeadersTests(TrustedProxyApp app) : IClassFixture<TrustedProxyApp>
{
    [Fact]
    public async Task Behind_a_configured_proxy_each_client_address_has_its_own_bucket()
    {
        for (var i = 0; i < 3; i++)
        {
            await (await ForwardedLogins.FromAsync(app, "203.0.113.7")).AssertError(401, "AUTHENTICATION_ERROR");
        }

        await (await ForwardedLogins.FromAsync(app, "203.0.113.7")).AssertError(429, "RATE_LIMITED");
        // Another client behind the same proxy is not punished for the first one's guesses.
        await (await ForwardedLogins.FromAsync(app, "203.0.113.8")).AssertError(401, "AUTHENTICATION_ERROR");
    }
}
