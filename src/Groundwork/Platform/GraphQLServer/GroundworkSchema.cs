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

        // Introspection is charged a tenth of a data field, and its lists at their real size in this schema (the
        // cost rule would price them as 100-item lists): the standard query an IDE sends then fits the cost limit,
        // while nested introspection (fields { type { fields … } }) still multiplies past it.
        this.WithIntrospectionComplexityImpact(0.1);
        PriceIntrospectionListsAtTheirRealSize();
    }

    private void PriceIntrospectionListsAtTheirRealSize()
    {
        var types = AllTypes.ToList();
        var complex = types.OfType<IComplexGraphType>().ToList();
        var fieldArguments = complex.OfType<IObjectGraphType>().Concat<IComplexGraphType>(complex.OfType<IInterfaceGraphType>())
            .SelectMany(t => t.Fields).Select(f => f.Arguments?.Count ?? 0);
        var directiveArguments = Directives.Select(d => d.Arguments?.Count ?? 0);
        int Most(IEnumerable<int> counts) => Math.Max(1, counts.DefaultIfEmpty(0).Max());

        Price("__Schema", "types", types.Count);
        Price("__Schema", "directives", Directives.Count);
        Price("__Type", "fields", Most(complex.Select(t => t.Fields.Count)));
        Price("__Type", "inputFields", Most(complex.OfType<IInputObjectGraphType>().Select(t => t.Fields.Count)));
        Price("__Type", "interfaces", Most(types.OfType<IImplementInterfaces>().Select(t => t.ResolvedInterfaces.Count)));
        Price("__Type", "possibleTypes", Most(types.OfType<IAbstractGraphType>().Select(t => t.PossibleTypes.Count)));
        Price("__Type", "enumValues", Most(types.OfType<EnumerationGraphType>().Select(t => t.Values.Count)));
        Price("__Field", "args", Most(fieldArguments));
        Price("__Directive", "args", Most(directiveArguments));
        Price("__Directive", "locations", Most(Directives.Select(d => d.Locations.Count)));

        void Price(string typeName, string fieldName, int mostItems) =>
            ((IComplexGraphType)AllTypes[typeName]!).GetField(fieldName)!.WithComplexityImpact(1, mostItems);
    }
}
