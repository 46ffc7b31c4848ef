using GraphQL.Types;
using Groundwork.Platform.Hosting;

namespace Groundwork.Features.Posts;

public sealed class PostsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddScoped<Platform.WriteBehind.ICounterWriter, PostViewsWriter>();
        services.AddSingleton<NewestPostsByAuthors>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => api.MapPosts();

    public void AddGraphQLQueries(ObjectGraphType query)
    {
        PostsGraphQL.AddQueries(query);
        PostsGraphQL.AddConnections(query);
    }

    public void AddGraphQLMutations(ObjectGraphType mutation)
    {
        PostsGraphQL.AddMutations(mutation);
        PostsGraphQL.AddPublishing(mutation);
    }

    public void AddGraphQLSubscriptions(ObjectGraphType subscription) => PostsGraphQL.AddSubscriptions(subscription);

    public void MapGrpc(IEndpointRouteBuilder app) => app.MapGrpcService<PostsGrpc>().AllowAnonymous();
}
