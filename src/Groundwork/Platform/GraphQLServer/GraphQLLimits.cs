using GraphQL;
using GraphQL.Builders;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQL.Validation.Complexity;
using GraphQL.Validation.Rules.Custom;
using GraphQLParser.AST;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// The limits on what one GraphQL document may ask for (docs/adr/0007-graphql-transport.md).
/// </summary>
public static class GraphQLLimits
{
    public const int MaxDepth = 10;
    public const int MaxAliases = 15;

    /// <summary>
    /// Objects a document may touch at most: each field costs 1, times the real maximum size of the lists above it
    /// (the <c>limit</c>/<c>first</c> argument, clamped to its range, or the list's own bound).
    /// </summary>
    public const int MaxComplexity = 25_000;

    /// <summary>Characters in a document; the introspection query an IDE sends is about 3,000.</summary>
    public const int MaxDocumentLength = 32 * 1024;

    /// <summary>The most items one list field returns (<c>limit</c>, <c>first</c>, the seed's bounded lists).</summary>
    public const int MaxListSize = Operations.PageRequest.MaxLimit;

    /// <summary>The deepest offset page (the same rule as every transport's).</summary>
    public const int MaxPage = Operations.PageRequest.MaxPage;

    /// <summary>
    /// A paging argument (<c>limit</c>, <c>first</c>): refused outside 1–<see cref="MaxListSize"/> during validation,
    /// before anything runs, and priced at its real size (clamped, so no value can make the estimate small or negative).
    /// </summary>
    public static FieldBuilder<TSource, TReturn> SizeArgument<TSource, TReturn>(this FieldBuilder<TSource, TReturn> field, string name, int defaultValue = 20)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field
            .Argument<IntGraphType>(name, a =>
            {
                a.DefaultValue = defaultValue;
                a.Validate(value => InRange(name, value, 1, MaxListSize));
            })
            .WithComplexityImpact(ctx => new(1, Math.Clamp(ctx.GetArgument(name, defaultValue), 1, MaxListSize)));
    }

    /// <summary>The <c>page</c> argument of offset lists: 1–<see cref="MaxPage"/>, refused during validation.</summary>
    public static FieldBuilder<TSource, TReturn> PageArgument<TSource, TReturn>(this FieldBuilder<TSource, TReturn> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.Argument<IntGraphType>("page", a =>
        {
            a.DefaultValue = 1;
            a.Validate(value => InRange("page", value, 1, MaxPage));
        });
    }

    /// <summary>A list field without a size argument, priced at the most items it can return.</summary>
    public static FieldBuilder<TSource, TReturn> ListOfAtMost<TSource, TReturn>(this FieldBuilder<TSource, TReturn> field, int maxItems)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.WithComplexityImpact(1, maxItems);
    }

    private static void InRange(string name, object value, int min, int max)
    {
        if (value is not int n || n < min || n > max)
        {
            throw new ArgumentException($"'{name}' must be between {min} and {max}");
        }
    }

    /// <summary>
    /// The limits that read only the document, every operation in it: the same text always gives the same answer,
    /// so a text that passed once skips them (GraphQLExecution.ParseOrReuse).
    /// </summary>
    public static IEnumerable<IValidationRule> RulesThatReadOnlyTheDocument(bool production)
    {
        yield return new AliasLimitRule();
        yield return new DepthLimitRule();
        if (production)
        {
            yield return NoIntrospectionValidationRule.Instance;
        }
    }

    /// <summary>
    /// The limits that read the request, so they run for every request, a known document's too: the cost is priced
    /// for the operation chosen by name, and a list's size may come from a variable (<c>users(limit: $n)</c>).
    /// </summary>
    public static IEnumerable<IValidationRule> RulesThatReadTheRequest()
    {
        yield return new ComplexityValidationRule(new ComplexityOptions
        {
            MaxComplexity = MaxComplexity,
            // A list field that forgets ListOfAtMost/SizeArgument is still priced at the most any list returns.
            DefaultListImpactMultiplier = MaxListSize,
        });
    }

    /// <summary>Aliases multiply work without nesting (the same field a hundred times); cap them per document.</summary>
    private sealed class AliasLimitRule : ValidationRuleBase
    {
        public override ValueTask<INodeVisitor?> GetPreNodeVisitorAsync(ValidationContext context)
        {
            var count = 0;
            return new(new MatchingNodeVisitor<GraphQLField>((field, ctx) =>
            {
                if (field.Alias is not null && ++count == MaxAliases + 1)
                {
                    ctx.ReportError(new ValidationError(ctx.Document.Source, "ALIAS_LIMIT",
                        $"The document uses more than {MaxAliases} aliases", field));
                }
            }));
        }
    }

    /// <summary>
    /// Nesting of data fields, through fragments, at most <see cref="MaxDepth"/>. Introspection subtrees do not
    /// count: their shape is fixed by the schema (the standard IDE query nests 13 deep), and the complexity
    /// limit still bounds them; in Production introspection is off altogether.
    /// </summary>
    private sealed class DepthLimitRule : ValidationRuleBase
    {
        public override ValueTask<INodeVisitor?> GetPreNodeVisitorAsync(ValidationContext context)
        {
            var fragments = context.Document.Definitions.OfType<GraphQLFragmentDefinition>()
                .GroupBy(f => f.FragmentName.Name.Value.ToString())
                .ToDictionary(g => g.Key, g => g.First());
            foreach (var operation in context.Document.Definitions.OfType<GraphQLOperationDefinition>())
            {
                var depth = Depth(operation.SelectionSet, fragments, []);
                if (depth > MaxDepth)
                {
                    context.ReportError(new ValidationError(context.Document.Source, "DEPTH_LIMIT",
                        $"The query nests {depth} levels deep; at most {MaxDepth} are allowed", operation));
                }
            }

            return default;
        }

        private static int Depth(GraphQLSelectionSet? selections, Dictionary<string, GraphQLFragmentDefinition> fragments, HashSet<string> visiting)
        {
            var deepest = 0;
            foreach (var selection in selections?.Selections ?? [])
            {
                var depth = selection switch
                {
                    GraphQLField field when field.Name.Value.Span.StartsWith("__") => 0,
                    GraphQLField field => 1 + Depth(field.SelectionSet, fragments, visiting),
                    GraphQLInlineFragment inline => Depth(inline.SelectionSet, fragments, visiting),
                    // A cycle is reported by the core rules; here it just stops the walk.
                    GraphQLFragmentSpread spread when fragments.TryGetValue(spread.FragmentName.Name.Value.ToString(), out var fragment)
                        && visiting.Add(fragment.FragmentName.Name.Value.ToString()) =>
                        WithFragment(fragment, fragments, visiting),
                    _ => 0,
                };
                deepest = Math.Max(deepest, depth);
            }

            return deepest;
        }

        private static int WithFragment(GraphQLFragmentDefinition fragment, Dictionary<string, GraphQLFragmentDefinition> fragments, HashSet<string> visiting)
        {
            var depth = Depth(fragment.SelectionSet, fragments, visiting);
            visiting.Remove(fragment.FragmentName.Name.Value.ToString());
            return depth;
        }
    }
}
