using GraphQL.Types;
using Groundwork.Platform.Hosting;

namespace Groundwork.Features.Orders;

public sealed class OrdersModule : IFeatureModule
{
    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => api.MapOrders();

    public void AddGraphQLQueries(ObjectGraphType query) => OrdersGraphQL.AddQueries(query);

    public void AddGraphQLMutations(ObjectGraphType mutation) => OrdersGraphQL.AddMutations(mutation);

    public void AddGraphQLSubscriptions(ObjectGraphType subscription) => OrdersGraphQL.AddSubscriptions(subscription);

    public void MapGrpc(IEndpointRouteBuilder app) => app.MapGrpcService<OrdersGrpc>().AllowAnonymous();
}
