using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Platform;

public abstract class HttpConventionsTests(GroundworkApp app)
{
    /// <summary>Every route the app maps, as "METHOD /pattern", with its authorization metadata.</summary>
    private IEnumerable<(string Route, RouteEndpoint Endpoint)> Routes() =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => ($"{m} /{e.RoutePattern.RawText!.TrimStart('/')}", e)));

    /// <summary>The routes anyone may call. Adding one here is a security decision, reviewed as such.</summary>
    private static readonly HashSet<string> PublicRoutes =
    [
        "POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/auth/refresh",
        "GET /.well-known/jwks.json", "GET /.well-known/openid-configuration",
        "* /health/live", "* /health/ready", "GET /openapi/{documentName}.json",
        "GET /docs/{documentName?}", "GET /docs/{**path}", "GET /docs/", "GET /",
        "GET /api/v1/posts/", "GET /api/v1/posts/{id:guid}", "GET /api/v1/posts/{id:guid}/views", "GET /api/v1/users/{userId:guid}/posts",
        // GraphQL and gRPC authorize per field / per method in the operation pipeline (GraphQL*Tests,
        // Grpc*Tests and the cross-transport table prove it); the HTTP route itself is open.
        "GET /graphql", "POST /graphql",
    ];

    private static bool IsPublicRoute(string route)
    {
        var (method, path) = (route.Split(' ')[0], route.Split(' ')[1]);
        // gRPC methods are POST only, as Grpc.AspNetCore binds them (CheckedServiceMethodProvider must too).
        var grpc = path.StartsWith("/groundwork.v1.", StringComparison.Ordinal)
            || path.StartsWith("/grpc.health.v1.", StringComparison.Ordinal)
            || path.StartsWith("/grpc.reflection.", StringComparison.Ordinal);
        return PublicRoutes.Contains(route)
            || route.StartsWith("GET /docs", StringComparison.Ordinal)
            || route.StartsWith("GET /graphql/ide", StringComparison.Ordinal)
            || (grpc && method == "POST")
            // Grpc.AspNetCore's own catch-alls (unknown service, unknown method of a service) answer UNIMPLEMENTED
            // for any HTTP method.
            || path.StartsWith("/{unimplementedService}", StringComparison.Ordinal)
            || (grpc && path.EndsWith("/{unimplementedMethod:grpcunimplemented}", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_route_declares_its_access_and_only_the_listed_ones_are_public()
    {
        var routes = Routes().ToList();
        Assert.NotEmpty(routes);
        foreach (var (route, endpoint) in routes)
        {
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var authorized = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Count > 0;
            Assert.True(anonymous || authorized, $"{route} declares neither AllowAnonymous nor RequireAuthorization");
            if (anonymous)
            {
                Assert.True(IsPublicRoute(route), $"{route} is public but not in the reviewed list");
            }
        }
    }

    /// <summary>
    /// gRPC methods are bound once, by the provider that refuses unparseable request messages as INVALID_ARGUMENT:
    /// a later AddGrpc() would add Grpc.AspNetCore's own binder back beside it.
    /// </summary>
    [Fact]
    public void Grpc_services_are_bound_only_by_the_provider_that_checks_request_messages()
    {
        var providers = app.Services.GetServices<Grpc.AspNetCore.Server.Model.IServiceMethodProvider<Groundwork.Features.Users.UsersGrpc>>().ToList();
        Assert.Single(providers.OfType<Groundwork.Platform.GrpcServer.CheckedServiceMethodProvider<Groundwork.Features.Users.UsersGrpc>>());
        // Grpc.AspNetCore's other provider binds only services built from a ServerServiceDefinition (none here).
        Assert.DoesNotContain(providers, p => p.GetType().Name == "BinderServiceMethodProvider`1");
    }

    [Fact]
    public async Task Every_protected_route_refuses_anonymous_callers_with_401()
    {
        var client = app.CreateClient();
        var protectedRoutes = Routes().Where(r => r.Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null).ToList();
        Assert.True(protectedRoutes.Count >= 12, $"only {protectedRoutes.Count} protected routes found");
        foreach (var (route, _) in protectedRoutes)
        {
            var method = route.Split(' ')[0];
            var path = System.Text.RegularExpressions.Regex.Replace(route.Split(' ')[1], @"\{\w+:guid\}", Guid.CreateVersion7().ToString());
            var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method is "POST" or "PATCH" or "PUT")
            {
                request.Content = JsonContent.Create(new { });
            }

            var response = await client.SendAsync(request);
            var error = await response.AssertError(401, "AUTHENTICATION_ERROR");
            Assert.NotNull(error);
            Assert.NotEmpty(response.Headers.WwwAuthenticate);
        }
    }

    [Fact]
    public async Task Unknown_route_is_404_in_the_envelope()
    {
        var response = await app.CreateClient().GetAsync("/api/v1/nothing-here");
        await response.AssertError(404, "NOT_FOUND");
    }

    [Fact]
    public async Task Wrong_method_is_405_in_the_envelope()
    {
        var response = await app.CreateClient().PutAsJsonAsync("/api/v1/auth/login", new { });
        await response.AssertError(405, "METHOD_NOT_ALLOWED");
    }

    [Fact]
    public async Task Request_id_is_echoed_when_safe_and_replaced_when_not()
    {
        var client = app.CreateClient();
        var safe = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        safe.Headers.Add("X-Request-Id", "client-req_123.abc:9");
        var echoed = await client.SendAsync(safe);
        Assert.Equal("client-req_123.abc:9", echoed.Headers.GetValues("X-Request-Id").Single());

        foreach (var bad in new[] { new string('a', 129), "has space", "<script>" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nowhere");
            request.Headers.TryAddWithoutValidation("X-Request-Id", bad);
            var response = await client.SendAsync(request);
            var id = response.Headers.GetValues("X-Request-Id").Single();
            Assert.NotEqual(bad, id);
            Assert.Equal(32, id.Length);
            var error = await response.AssertError(404, "NOT_FOUND");
            Assert.Equal(id, error["requestId"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Responses_carry_security_headers()
    {
        var response = await app.CreateClient().GetAsync("/health/live");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task Health_endpoints_answer()
    {
        var client = app.CreateClient();
        Assert.Equal(200, (int)(await client.GetAsync("/health/live")).StatusCode);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Openapi_documents_every_api_route_with_its_error_responses()
    {
        var doc = JsonNode.Parse(await app.CreateClient().GetStringAsync("/openapi/v1.json"))!;
        var paths = doc["paths"]!.AsObject();
        var apiRoutes = Routes().Where(r => r.Route.Contains(" /api/", StringComparison.Ordinal)).Select(r => r.Route).Distinct().ToList();
        Assert.NotEmpty(apiRoutes);
        foreach (var route in apiRoutes)
        {
            var method = route.Split(' ')[0].ToLowerInvariant();
            var path = route.Split(' ')[1].Replace(":guid", "", StringComparison.Ordinal).TrimEnd('/');
            var item = paths[path] ?? paths[path + "/"];
            Assert.True(item?[method] is not null, $"{route} missing from OpenAPI");
            var responses = item![method]!["responses"]!.AsObject();
            Assert.Contains(responses, r => r.Key.StartsWith('2') || r.Key == "304");
            Assert.Contains(responses, r => r.Key.StartsWith('4'));
        }

        Assert.NotNull(doc["components"]!["securitySchemes"]!["bearer"]);
        Assert.NotNull(doc["components"]!["securitySchemes"]!["apiKey"]);

        // Enums are listed by the names the API reads and writes (WireEnums), one of which a value must be.
        var schemas = doc["components"]!["schemas"]!;
        Assert.Equal(["user", "moderator", "admin"], schemas["Role"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["pending", "paid", "cancelled", "refunded"], schemas["OrderStatus"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    /// <summary>
    /// Every call the README and docs/ name (a method, then a path; tables of the REST API leave out /api/v1) is a
    /// route the service maps.
    /// </summary>
    [Fact]
    public void Every_route_the_documentation_names_exists()
    {
        static string Shape(string path) =>
            System.Text.RegularExpressions.Regex.Replace(path.Split('?')[0].TrimEnd('/', '.', ',', ')'), @"\{[^}]*\}", "{}");
        var mapped = Routes().Select(r => (Method: r.Route.Split(' ')[0], Path: Shape(r.Route.Split(' ')[1]))).ToHashSet();
        var documents = Directory.GetFiles(RepoFiles.PathOf("docs"), "*.md", SearchOption.AllDirectories).Append(RepoFiles.PathOf("README.md"));
        var named = 0;
        var missing = new List<string>();
        foreach (var document in documents)
        {
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(document), @"\b(GET|POST|PUT|PATCH|DELETE) (/[A-Za-z0-9_{}/.:-]*)"))
            {
                if (m.Groups[2].Value.StartsWith("/your/", StringComparison.Ordinal))
                {
                    continue; // a receiver's side, in the webhook examples
                }

                named++;
                var call = (Method: m.Groups[1].Value, Path: Shape(m.Groups[2].Value));
                var underApi = (call.Method, Path: Shape("/api/v1" + call.Path));
                if (!mapped.Contains(call) && !mapped.Contains(("*", call.Path)) && !mapped.Contains(underApi))
                {
                    missing.Add($"{Path.GetFileName(document)}: {m.Value}");
                }
            }
        }

        Assert.True(named > 30, $"only {named} documented calls found");
        Assert.True(missing.Count == 0, "Documented but not mapped:\n" + string.Join("\n", missing.Distinct()));
    }

    [Fact]
    public async Task Docs_page_is_served()
    {
        var response = await app.CreateClient().GetAsync("/docs");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}

public sealed class HttpConventionsTestsOnSqlite(SqliteApp app) : HttpConventionsTests(app), IClassFixture<SqliteApp>;

public sealed class HttpConventionsTestsOnPostgres(PostgresApp app) : HttpConventionsTests(app), IClassFixture<PostgresApp>;
