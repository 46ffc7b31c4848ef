using GraphQL.Types;
using Groundwork.Platform.Hosting;

namespace Groundwork.Features.Accounts;

public sealed class AccountsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddScoped<SystemAccounts>();
        services.AddSingleton<AccountFacts>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => api.MapAccounts();

    public void AddGraphQLQueries(ObjectGraphType query) => AccountsGraphQL.AddQueries(query);

    public void AddGraphQLMutations(ObjectGraphType mutation) => AccountsGraphQL.AddMutations(mutation);

    public void AddGraphQLSubscriptions(ObjectGraphType subscription) => AccountsGraphQL.AddSubscriptions(subscription);

    public void MapGrpc(IEndpointRouteBuilder app) => app.MapGrpcService<AccountsGrpc>().AllowAnonymous();
}
