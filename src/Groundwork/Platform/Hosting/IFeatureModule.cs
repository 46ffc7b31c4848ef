using GraphQL.Types;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// One feature's contributions to the host: its services, REST routes, GraphQL fields, gRPC service and start-up
/// work. Each feature folder has one; the composition root lists them (src/Groundwork/App/FeatureModules.cs), so
/// the Platform never names a feature and adding one touches its folder and one line there.
/// </summary>
public interface IFeatureModule
{
    void AddServices(IServiceCollection services)
    {
    }

    /// <param name="api">The <c>/api/v1</c> group.</param>
    void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
    }

    void AddGraphQLQueries(ObjectGraphType query)
    {
    }

    void AddGraphQLMutations(ObjectGraphType mutation)
    {
    }

    /// <summary>Subscription fields (served over the graphql-transport-ws WebSocket at <c>/graphql</c>).</summary>
    void AddGraphQLSubscriptions(ObjectGraphType subscription)
    {
    }

    /// <summary>Maps the feature's gRPC service; open at the HTTP level, every method authorizes in the pipeline.</summary>
    void MapGrpc(IEndpointRouteBuilder app)
    {
    }

    /// <summary>Work after migrations and before serving (checks). It delays readiness, so a mere hint starts in the background.</summary>
    Task OnStartingAsync(IServiceProvider services, CancellationToken cancellationToken) => Task.CompletedTask;
}
