using System.IO.Compression;
using System.Text.RegularExpressions;
using Groundwork.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Transports;

/// <summary>The GraphQL IDE outside Production: a page and assets all served by the app itself.</summary>
public sealed partial class GraphQLIdeTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task The_IDE_page_loads_only_assets_the_app_serves_itself()
    {
        var client = app.CreateClient();
        var page = await client.GetAsync("/graphql/ide");
        Assert.Equal(200, (int)page.StatusCode);
        Assert.StartsWith("text/html", page.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        // Subscriptions: the WebSocket back to this host and nowhere else.
        Assert.Contains("connect-src 'self' ws://localhost wss://localhost;", policy, StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        var assets = AssetReference().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(7, assets.Count);
        foreach (var asset in assets)
        {
            Assert.StartsWith("/graphql/ide/", asset, StringComparison.Ordinal);
            var response = await client.GetAsync(asset);
            Assert.True(response.IsSuccessStatusCode, asset);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var text = response.Content.Headers.ContentEncoding.Contains("gzip")
                ? new StreamReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)).ReadToEnd()
                : System.Text.Encoding.UTF8.GetString(bytes);
            Assert.True(text.Length > 30, asset);
        }

        var script = await (await client.GetAsync("/graphql/ide/ide.js")).Content.ReadAsStringAsync();
        Assert.Contains("'/graphql'", script, StringComparison.Ordinal);
        Assert.Equal(404, (int)(await client.GetAsync("/graphql/ide/secrets.json")).StatusCode);
    }

    [GeneratedRegex("(?:src|href)=\"([^\"]+)\"")]
    private static partial Regex AssetReference();
}

/// <summary>Groundwork as deployed: development aids are off.</summary>
public sealed class ProductionApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Production");
        builder.UseSetting("Groundwork:Auth:BcryptWorkFactor", "11");
    }

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

public sealed class ProductionToolsTests(ProductionApp app) : IClassFixture<ProductionApp>
{
    [Fact]
    public async Task In_Production_the_IDE_introspection_and_gRPC_reflection_are_off_and_GraphQL_still_serves()
    {
        var client = app.CreateClient();
        Assert.Equal(404, (int)(await client.GetAsync("/graphql/ide")).StatusCode);
        var introspection = await client.GraphQLAsync("{ __schema { types { name } } }");
        Assert.Contains("introspection", introspection.AssertError("VALIDATION_ERROR", 400)["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        (await client.GraphQLAsync("{ posts { id } }")).AssertData();

        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText ?? "").ToList();
        Assert.DoesNotContain(routes, r => r.Contains("grpc.reflection", StringComparison.Ordinal));
        Assert.Contains(routes, r => r.Contains("grpc.health.v1.Health", StringComparison.Ordinal));
    }
}
