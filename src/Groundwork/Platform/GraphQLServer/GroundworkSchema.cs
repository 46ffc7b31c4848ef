using GraphQL;
using GraphQL.Types;
using Groundwork.Platform.Hosting;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// The schema: each feature module adds its own fields from its <c>*GraphQL.cs</c> adapter, in the order the
/// composition root lists the features (the seed schema's users and posts first); the printed result is
/// api/schema.graphql.
/// </summary>
public sealed class GroundworkSchema : Schema
{
    public GroundworkSchema(IEnumerable<IFeatureModule> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var query = new ObjectGraphType { Name = "Query" };
        var mutation = new ObjectGraphType { Name = "Mutation" };
        foreach (var feature in features)
        {
            feature.AddGraphQLQueries(query);
            feature.AddGraphQLMutations(mutation);
        }

        Query = query;
        Mutation = mutation;

        // The standard IDE introspection query would cost ~176k at full price; at a tenth it fits the limit,
        // while deliberately nested introspection still multiplies past it.
        this.WithIntrospectionComplexityImpact(0.1);
    }
}
