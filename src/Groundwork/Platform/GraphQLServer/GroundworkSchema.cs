using GraphQL;
using GraphQL.Types;
using Groundwork.Features.Accounts;
using Groundwork.Features.Orders;
using Groundwork.Features.Posts;
using Groundwork.Features.Users;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// The schema: the seed of SPEC §10 first (user, users, post, posts; createUser … createPost), then the rest.
/// Each feature adds its own fields from its <c>*GraphQL.cs</c> adapter; the printed result is api/schema.graphql.
/// </summary>
public sealed class GroundworkSchema : Schema
{
    public GroundworkSchema()
    {
        var query = new ObjectGraphType { Name = "Query" };
        UsersGraphQL.AddQueries(query);
        PostsGraphQL.AddQueries(query);
        PostsGraphQL.AddConnections(query);
        UsersGraphQL.AddMeQuery(query);
        OrdersGraphQL.AddQueries(query);
        AccountsGraphQL.AddQueries(query);

        var mutation = new ObjectGraphType { Name = "Mutation" };
        UsersGraphQL.AddMutations(mutation);
        PostsGraphQL.AddMutations(mutation);
        PostsGraphQL.AddPublishing(mutation);
        OrdersGraphQL.AddMutations(mutation);
        AccountsGraphQL.AddMutations(mutation);

        Query = query;
        Mutation = mutation;

        // The standard IDE introspection query would cost ~176k at full price; at a tenth it fits the limit,
        // while deliberately nested introspection still multiplies past it.
        this.WithIntrospectionComplexityImpact(0.1);
    }
}
