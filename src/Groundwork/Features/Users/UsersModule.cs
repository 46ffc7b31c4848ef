using GraphQL.Types;
using Groundwork.Platform.Hosting;

namespace Groundwork.Features.Users;

public sealed class UsersModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddScoped<UserRegistration>();

    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => api.MapUsers();

    public void AddGraphQLQueries(ObjectGraphType query)
    {
        UsersGraphQL.AddQueries(query);
        UsersGraphQL.AddMeQuery(query);
    }

    public void AddGraphQLMutations(ObjectGraphType mutation) => UsersGraphQL.AddMutations(mutation);

    public void MapGrpc(IEndpointRouteBuilder app) => app.MapGrpcService<UsersGrpc>().AllowAnonymous();

    public Task OnStartingAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        FirstAdminHint.Start(services);
        return Task.CompletedTask;
    }
}
