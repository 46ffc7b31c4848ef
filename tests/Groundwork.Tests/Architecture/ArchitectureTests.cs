using System.Reflection;
using Assembly = System.Reflection.Assembly;
using Type = System.Type;

using ArchUnitNET.Fluent;
using ArchLoader = ArchUnitNET.Loader.ArchLoader;
using FluentValidation;
using Groundwork.Platform.Operations;
using Groundwork.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace Groundwork.Tests.Architecture;

/// <summary>The conventions a newcomer relies on, enforced: they fail the build's tests the day someone breaks them.</summary>
public sealed class ArchitectureTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    private static readonly Assembly Service = typeof(OperationPipeline).Assembly;

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> Model = new(() => new ArchLoader().LoadAssemblies(Service).Build());

    [Fact]
    public void The_platform_knows_no_feature_and_no_composition()
    {
        IArchRule rule = Types().That().ResideInNamespaceMatching(@"^Groundwork\.Platform(\..*)?$")
            .Should().NotDependOnAny(Types().That().ResideInNamespaceMatching(@"^Groundwork\.(Features|App|Bench)(\..*)?$"));
        Assert.True(rule.HasNoViolations(Model.Value), Violations(rule));
    }

    [Fact]
    public void Features_never_depend_on_the_composition_root()
    {
        IArchRule rule = Types().That().ResideInNamespaceMatching(@"^Groundwork\.Features\..*")
            .Should().NotDependOnAny(Types().That().ResideInNamespaceMatching(@"^Groundwork\.(App|Bench)(\..*)?$"));
        Assert.True(rule.HasNoViolations(Model.Value), Violations(rule));
    }

    /// <summary>
    /// Platform, Features, App (the composition root), Bench and the generated Api form a one-way graph. Known and
    /// left for later (docs/adr/0010-feature-modules.md): cycles between some features (users and sessions, posts and
    /// their authors, accounts and the ledger) and between Platform's own folders.
    /// </summary>
    [Fact]
    public void The_top_level_parts_have_no_dependency_cycles()
    {
        static string? Part(string? ns) => ns is not null && ns.StartsWith("Groundwork.", StringComparison.Ordinal) ? ns.Split('.')[1] : null;
        var edges = Model.Value.Types
            .SelectMany(t => t.Dependencies.Select(d => (From: Part(t.Namespace?.FullName), To: Part(d.Target?.Namespace?.FullName))))
            .Where(e => e.From is not null && e.To is not null && e.From != e.To)
            .Select(e => (e.From!, e.To!))
            .ToHashSet();
        Assert.Contains(("App", "Features"), edges); // the graph was read: the composition root uses the features
        Assert.Contains(("Features", "Platform"), edges);
        var cycles = edges.Where(e => Reaches(edges, e.Item2, e.Item1)).Select(e => $"{e.Item1} -> {e.Item2}").ToList();
        Assert.True(cycles.Count == 0, "Edges on a cycle: " + string.Join(", ", cycles));
    }

    private static bool Reaches(HashSet<(string From, string To)> edges, string from, string to)
    {
        var seen = new HashSet<string> { from };
        var queue = new Queue<string>([from]);
        while (queue.TryDequeue(out var next))
        {
            if (next == to)
            {
                return true;
            }

            foreach (var (_, target) in edges.Where(e => e.From == next))
            {
                if (seen.Add(target))
                {
                    queue.Enqueue(target);
                }
            }
        }

        return false;
    }

    [Fact]
    public void Every_request_that_carries_fields_has_a_validator()
    {
        var validated = Service.GetTypes()
            .SelectMany(t => t.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IValidator<>))
            .Select(i => i.GetGenericArguments()[0])
            .ToHashSet();
        var missing = Operations()
            .Select(o => o.Request)
            .Distinct()
            .Where(r => r.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(CarriesClientValues) && !validated.Contains(r))
            .Select(r => r.FullName)
            .ToList();
        Assert.True(missing.Count == 0, "Requests without a validator: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_route_that_changes_state_runs_a_writing_operation_in_the_pipelines_transaction()
    {
        using var scope = app.Services.CreateScope();
        var problems = new List<string>();
        var routes = Routes().ToList();
        Assert.Contains(routes, r => r.Route == "/api/v1/transfers" && r.Method == "POST"); // the routes were found
        foreach (var (route, method, operation, _) in routes)
        {
            if (method is "POST" or "PUT" or "PATCH" or "DELETE" && !Execution(scope, operation).Writes)
            {
                problems.Add($"{method} {route} runs {operation.Name}, which does not declare a write");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Every_POST_that_creates_something_declares_that_it_takes_an_idempotency_key()
    {
        using var scope = app.Services.CreateScope();
        var problems = new List<string>();
        var posts = Routes().Where(r => r.Method == "POST").ToList();
        Assert.Contains(posts, r => r.Creates); // the 201 metadata was found
        foreach (var (route, _, operation, creates) in posts)
        {
            var execution = Execution(scope, operation);
            // Credentials (tokens, API-key and webhook secrets) are never stored for replay, so those routes take no key.
            var carriesCredentials = route.StartsWith("/api/v1/auth", StringComparison.Ordinal) || route.StartsWith("/api/v1/api-keys", StringComparison.Ordinal)
                || route == "/api/v1/webhooks/" || route.EndsWith("/rotate-secret", StringComparison.Ordinal);
            if (carriesCredentials && execution.Idempotency != IdempotencyMode.None)
            {
                problems.Add($"POST {route} ({operation.Name}) would store credentials for replay");
            }
            else if (!carriesCredentials && creates && execution.Idempotency == IdempotencyMode.None)
            {
                problems.Add($"POST {route} ({operation.Name}) creates or moves something but takes no idempotency key");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>
    /// The Request Delegate Generator binds an unmarked parameter of a class type as "a service if one is registered,
    /// else the JSON body", decided when the endpoint is built. Marked, an operation whose registration was forgotten
    /// fails its route with a server error instead of being filled in from whatever JSON a client sends. Checked for
    /// every registered service and every operation type, registered or not.
    /// </summary>
    [Fact]
    public void Every_service_a_route_handler_takes_is_marked_FromServices()
    {
        var isService = app.Services.GetRequiredService<IServiceProviderIsService>();
        var operations = Operations().Select(o => o.Operation).ToHashSet();
        var problems = new List<string>();
        var checkedServices = 0;
        // Our handlers only: a library's route (Scalar's /docs) is bound as its authors chose.
        foreach (var (endpoint, handler) in Handlers().Where(h => h.Handler.DeclaringType?.Assembly == Service))
        {
            foreach (var parameter in handler.GetParameters())
            {
                var type = parameter.ParameterType;
                if (type == typeof(Microsoft.AspNetCore.Http.HttpContext) || !(isService.IsService(type) || operations.Contains(type)))
                {
                    continue;
                }

                checkedServices++;
                if (parameter.GetCustomAttribute<Microsoft.AspNetCore.Mvc.FromServicesAttribute>() is null)
                {
                    problems.Add($"{endpoint.RoutePattern.RawText}: {type.Name} {parameter.Name}");
                }
            }
        }

        Assert.True(checkedServices > 50, $"only {checkedServices} service parameters found"); // the handlers were read
        Assert.True(problems.Count == 0, "Services without [FromServices]:\n" + string.Join("\n", problems));
    }

    /// <summary>
    /// Ids (parsed as GUIDs by every transport), flags, enums and the If-Match version are checked by their types;
    /// anything else (text, numbers, lists of values) needs rules.
    /// </summary>
    private static bool CarriesClientValues(PropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        return !(type == typeof(Guid) || type == typeof(bool) || type.IsEnum
            || typeof(IEnumerable<Guid>).IsAssignableFrom(type)
            || (type == typeof(int) && property.Name == "ExpectedVersion"));
    }

    private static Execution Execution(IServiceScope scope, Type operation)
    {
        var instance = scope.ServiceProvider.GetRequiredService(operation);
        var contract = operation.GetInterfaces().First(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IOperation<,>));
        return (Execution)contract.GetProperty(nameof(IOperation<object, object>.Execution))!.GetValue(instance)!;
    }

    private static IEnumerable<(Type Operation, Type Request)> Operations() =>
        Service.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false })
            .SelectMany(t => t.GetInterfaces()
                .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IOperation<,>))
                .Select(i => (t, i.GetGenericArguments()[0])));

    /// <summary>Every REST route with the operation its handler runs (found among the handler's parameters).</summary>
    /// <param name="Creates">The route documents a 201 Created answer.</param>
    private IEnumerable<(string Route, string Method, Type Operation, bool Creates)> Routes()
    {
        var operations = Operations().Select(o => o.Operation).ToHashSet();
        foreach (var (endpoint, handler) in Handlers())
        {
            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().FirstOrDefault()?.HttpMethods ?? [];
            var creates = endpoint.Metadata.OfType<Microsoft.AspNetCore.Http.Metadata.IProducesResponseTypeMetadata>().Any(m => m.StatusCode == 201);
            foreach (var operation in handler.GetParameters().Select(p => p.ParameterType).Where(operations.Contains))
            {
                foreach (var method in methods)
                {
                    yield return ("/" + endpoint.RoutePattern.RawText!.TrimStart('/'), method, operation, creates);
                }
            }
        }
    }

    /// <summary>Every route endpoint with the method that handles it.</summary>
    private IEnumerable<(RouteEndpoint Endpoint, MethodInfo Handler)> Handlers() =>
        from endpoint in app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
        let handler = endpoint.Metadata.OfType<MethodInfo>().FirstOrDefault()
        where handler is not null
        select (endpoint, handler);

    private static string Violations(IArchRule rule) =>
        string.Join("\n", rule.Evaluate(Model.Value).Where(r => !r.Passed).Select(r => r.Description).Take(30));
}
