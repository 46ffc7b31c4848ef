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
        var subscription = new ObjectGraphType { Name = "Subscription" };
        foreach (var feature in features)
        {
            feature.AddGraphQLQueries(query);
            feature.AddGraphQLMutations(mutation);
            feature.AddGraphQLSubscriptions(subscription);
        }

        Query = query;
        Mutation = mutation;
        if (subscription.Fields.Count > 0)
        {
            Subscription = subscription;
        }

        // Text is charged as it is resolved, so a few huge strings cannot build a response of gigabytes. Field
        // middleware is applied when the schema initializes, which the introspection setting below already
        // triggers: registered after it, the middleware would silently never run.
        FieldMiddleware.Use(next => async context =>
        {
            var value = await next(context);
            if (value is string text && context.UserContext is GraphQLRequestContext { Budget: { } budget })
            {
                budget.SpendText(text.Length);
            }

            return value;
        });

        // The standard IDE introspection query would cost ~176k at full price; at a tenth it fits the limit,
        // while deliberately nested introspection still multiplies past it.
        this.WithIntrospectionComplexityImpact(0.1);
    }
}
