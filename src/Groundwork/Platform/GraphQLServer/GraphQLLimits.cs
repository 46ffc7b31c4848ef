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

    /// <summary>
    /// Selections (fields, fragment spreads, inline fragments) in a document once each fragment spread is replaced by
    /// its fragment. Validation is not linear in them: GraphQL.NET's field-merge rule compares every pair of fields
    /// with one response name (a 32 KiB document of <c>id id id …</c> took seconds), and the depth and cost rules
    /// expand every spread (22 fragments each spreading the next twice, under 1 KiB of text, took 5 s). Counted in
    /// one pass that expands each fragment once (<see cref="RefuseIfTooLarge"/>), before any rule runs. The
    /// standard introspection query (graphql-js getIntrospectionQuery) is 245.
    /// </summary>
    public const int MaxSelections = 500;

    /// <summary>
    /// How often one response name may be selected in one selection set, the fields its fragments bring in counted:
    /// the field-merge rule compares such fields pairwise and reports every conflicting pair, so 499
    /// <c>posts(a: 1) posts(a: 2) …</c> made 125,000 errors (38 MB, 2 s). Clients repeat <c>id</c> across a few
    /// fragments of one object; thirty is far more than they need.
    /// </summary>
    public const int MaxSameName = 30;

    /// <summary>
    /// Nodes of the parsed document (every field, name, argument, directive, variable definition and value), as
    /// written. Validation reports an error per repeated directive, argument or variable, so a 32 KiB document of
    /// <c>@x @x @x …</c> (32,000 nodes) cost 0.3 s and 16,000 errors. 500 fields with an argument each are about
    /// 2,500 nodes.
    /// </summary>
    public const int MaxNodes = 3_000;

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

    /// <summary>
    /// Refuses (<see cref="GraphQLDocumentRefusedException"/>) what validation would not check in linear time, in
    /// three linear steps, each only after the one before passed: more than <see cref="MaxNodes"/> nodes as written,
    /// more than <see cref="MaxSelections"/> selections once fragments are expanded, one name more than
    /// <see cref="MaxSameName"/> times in one selection set.
    /// </summary>
    public static void RefuseIfTooLarge(GraphQLDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        NodeCounter.RefuseIfOver(document, MaxNodes);
        var fragments = new Dictionary<string, GraphQLFragmentDefinition>(StringComparer.Ordinal);
        foreach (var fragment in document.Definitions.OfType<GraphQLFragmentDefinition>())
        {
            fragments.TryAdd(NameOf(fragment), fragment);
        }

        RefuseTooManySelections(document, fragments);
        RefuseRepeatedNames(document, fragments);
    }

    private static string NameOf(GraphQLFragmentDefinition fragment) => fragment.FragmentName.Name.Value.ToString();

    /// <summary>
    /// More than <see cref="MaxSelections"/> selections once fragments are expanded. Linear in the document: each
    /// fragment's expanded size is computed once and reused for every spread of it, and the count stops as soon as
    /// it passes the limit. Unknown fragments and cycles count what they reach; the core rules report them.
    /// </summary>
    private static void RefuseTooManySelections(GraphQLDocument document, Dictionary<string, GraphQLFragmentDefinition> fragments)
    {
        var expanded = new Dictionary<string, int>(StringComparer.Ordinal);
        var expanding = new HashSet<string>(StringComparer.Ordinal);
        const int over = MaxSelections + 1;

        // Saturates at `over`: a document past the limit is refused whatever its exact size.
        int Size(GraphQLSelectionSet? set)
        {
            var total = 0;
            foreach (var selection in set?.Selections ?? [])
            {
                total += 1 + selection switch
                {
                    GraphQLField field => Size(field.SelectionSet),
                    GraphQLInlineFragment inline => Size(inline.SelectionSet),
                    GraphQLFragmentSpread spread => FragmentSize(spread.FragmentName.Name.Value.ToString()),
                    _ => 0,
                };
                if (total >= over)
                {
                    return over;
                }
            }

            return total;
        }

        int FragmentSize(string name)
        {
            if (expanded.TryGetValue(name, out var known))
            {
                return known;
            }

            if (!fragments.TryGetValue(name, out var fragment) || !expanding.Add(name))
            {
                return 0;
            }

            // Every spread counts at least 1, so a chain of fragments deeper than the limit is over it: stop before
            // the recursion goes deeper (a 32 KiB chain would otherwise recurse some 3,000 frames).
            if (expanding.Count > MaxSelections)
            {
                expanding.Remove(name);
                return over;
            }

            var size = Size(fragment.SelectionSet);
            expanding.Remove(name);
            expanded[name] = size;
            return size;
        }

        // The operations as they will run, then every fragment definition no operation reached (unused, or a second
        // definition of a name): the field-merge rule checks every selection set in the document, those too. A
        // reached fragment's own definition is validated once more, at most what its spreads already counted.
        var selections = 0;
        foreach (var operation in document.Definitions.OfType<GraphQLOperationDefinition>())
        {
            selections += Size(operation.SelectionSet);
            RefuseIfOver(selections);
        }

        foreach (var fragment in document.Definitions.OfType<GraphQLFragmentDefinition>())
        {
            var name = NameOf(fragment);
            if (!expanded.ContainsKey(name) || !ReferenceEquals(fragments[name], fragment))
            {
                selections += Size(fragment.SelectionSet);
                RefuseIfOver(selections);
            }
        }

        static void RefuseIfOver(int selections)
        {
            if (selections >= over)
            {
                throw new GraphQLDocumentRefusedException(
                    $"The document selects more than {MaxSelections} fields and fragments once its fragments are expanded");
            }
        }
    }

    /// <summary>
    /// Refuses a selection set that selects one response name more than <see cref="MaxSameName"/> times, counting the
    /// fields of the fragments spread into it (at its own level, as the field-merge rule collects them). Runs after the
    /// selection count, so every walk here is over at most <see cref="MaxSelections"/> selections.
    /// </summary>
    private static void RefuseRepeatedNames(GraphQLDocument document, Dictionary<string, GraphQLFragmentDefinition> fragments)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var spreading = new HashSet<string>(StringComparer.Ordinal);
        var sets = new Stack<GraphQLSelectionSet>();
        foreach (var definition in document.Definitions)
        {
            if (definition is GraphQLOperationDefinition { SelectionSet: { } operation })
            {
                sets.Push(operation);
            }
            else if (definition is GraphQLFragmentDefinition { SelectionSet: { } fragment })
            {
                sets.Push(fragment);
            }
        }

        while (sets.TryPop(out var set))
        {
            counts.Clear();
            CountLevel(set);
            foreach (var selection in set.Selections)
            {
                if (selection is GraphQLField { SelectionSet: { } below })
                {
                    sets.Push(below);
                }
                else if (selection is GraphQLInlineFragment { SelectionSet: { } inline })
                {
                    sets.Push(inline);
                }
            }
        }

        void CountLevel(GraphQLSelectionSet set)
        {
            foreach (var selection in set.Selections)
            {
                switch (selection)
                {
                    case GraphQLField field:
                        var name = (field.Alias?.Name ?? field.Name).Value.ToString();
                        var count = counts[name] = counts.GetValueOrDefault(name) + 1;
                        if (count > MaxSameName)
                        {
                            throw new GraphQLDocumentRefusedException(
                                $"The field '{name}' is selected more than {MaxSameName} times in one selection set");
                        }

                        break;
                    case GraphQLInlineFragment inline:
                        CountLevel(inline.SelectionSet);
                        break;
                    case GraphQLFragmentSpread spread when fragments.TryGetValue(spread.FragmentName.Name.Value.ToString(), out var fragment)
                        && spreading.Add(NameOf(fragment)):
                        CountLevel(fragment.SelectionSet);
                        spreading.Remove(NameOf(fragment));
                        break;
                }
            }
        }
    }

    /// <summary>Counts the document's nodes as written, and stops at the first one past the limit.</summary>
    private sealed class NodeCounter : GraphQLParser.Visitors.ASTVisitor<NodeCounter.Budget>
    {
        private static readonly NodeCounter Instance = new();

        public static void RefuseIfOver(GraphQLDocument document, int max)
        {
            // Synchronous: the visitor awaits nothing but itself, so the task is complete when it returns.
            var visit = Instance.VisitAsync(document, new Budget(max));
            if (!visit.IsCompletedSuccessfully)
            {
                visit.AsTask().GetAwaiter().GetResult();
            }
        }

        public override ValueTask VisitAsync(ASTNode? node, Budget context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (node is not null && ++context.Nodes > context.Max)
            {
                throw new GraphQLDocumentRefusedException($"The document has more than {context.Max} nodes (fields, arguments, directives, variables and values)");
            }

            return base.VisitAsync(node, context);
        }

        internal sealed class Budget(int max) : GraphQLParser.Visitors.IASTVisitorContext
        {
            public int Max { get; } = max;

            public int Nodes { get; set; }

            public CancellationToken CancellationToken => CancellationToken.None;
        }
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

/// <summary>
/// A document refused before validation: it cannot be parsed, or it is over one of the limits
/// <see cref="GraphQLLimits.RefuseIfTooLarge"/> checks.
/// The transports answer it with <c>VALIDATION_ERROR</c> (field <c>query</c>); the message names positions and
/// limits, never the document.
/// </summary>
public sealed class GraphQLDocumentRefusedException(string message) : Exception(message);
