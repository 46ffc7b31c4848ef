using GraphQL;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// What a GraphQL request carries into its resolvers: the caller and the idempotency key header (from the transport),
/// the request's batch loaders and resolution budget (which live exactly as long as the request; for a subscription,
/// as long as one event), the mutations it has applied, and for a subscription its event turn and room.
/// </summary>
public sealed class GraphQLRequestContext(Caller caller, string? idempotencyKeyHeader = null) : Dictionary<string, object?>
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private readonly Dictionary<string, object> _loaders = [];
    private Dictionary<(GraphQLParser.AST.GraphQLField, GraphQL.Types.FieldType, string), bool>? _selections;

    public Caller Caller { get; } = caller;

    /// <summary>The request's <c>Idempotency-Key</c> header, for mutations without an <c>idempotencyKey</c> argument.</summary>
    public string? IdempotencyKeyFromHeader { get; } = idempotencyKeyHeader;

    /// <summary>
    /// What the request may still resolve: set by <see cref="GraphQLExecution"/> for each run, and for each event of a
    /// subscription by <see cref="BudgetedSubscriptionExecutionStrategy"/>.
    /// </summary>
    public ResolutionBudget? Budget { get; set; }

    /// <summary>
    /// The root mutation fields whose operation succeeded, by response name, in the order they ran: their changes are
    /// committed whatever happens to the rest of the request, so an answer the resolution budget stops must name them.
    /// </summary>
    internal IReadOnlyList<string> AppliedMutations => _applied ?? [];

    private List<string>? _applied;

    internal void MutationApplied(string responseName) => (_applied ??= []).Add(responseName);

    /// <summary>A subscription's room for events between its source and their answer (<see cref="SubscriptionEventRoom"/>).</summary>
    internal SubscriptionEventRoom EventRoom { get; } = new();

    /// <summary>One event of a subscription resolves at a time (they share the subscription's DbContext).</summary>
    internal SemaphoreSlim EventTurn { get; } = new(1, 1);

    /// <summary>A subscription's event starts as a request of its own: its budget, and loaders (and answers of <see cref="Selects"/>) afresh.</summary>
    internal void StartEvent(ResolutionBudget budget)
    {
        Budget = budget;
        _loaders.Clear();
        _selections?.Clear();
    }

    internal void EndEvent() => Budget = null;

    /// <summary>
    /// Whether the field being resolved selects a field named <paramref name="name"/> of its type (through fragments,
    /// after <c>@skip</c>/<c>@include</c>; true when the selection is not known). Every object of a list asks the
    /// same of the same field, so the answer is kept for the request by the field's node in the document (and its
    /// definition). Fields merged under one response name get a node per parent object: still right, only kept once
    /// per object.
    /// </summary>
    public bool Selects(IResolveFieldContext context, string name)
    {
        ArgumentNullException.ThrowIfNull(context);
        _selections ??= [];
        var key = (context.FieldAst, context.FieldDefinition, name);
        if (!_selections.TryGetValue(key, out var selects))
        {
            selects = context.SubFields is not { } selected || selected.Values.Any(f => f.FieldType.Name == name);
            _selections[key] = selects;
        }

        return selects;
    }

    /// <summary>The request's loader named <paramref name="name"/>, created on first use with <paramref name="fetch"/>.</summary>
    public BatchLoader<TKey, TValue> Loader<TKey, TValue>(
        string name,
        Func<IReadOnlyCollection<TKey>, CancellationToken, Task<IReadOnlyDictionary<TKey, TValue>>> fetch)
        where TKey : notnull
    {
        if (!_loaders.TryGetValue(name, out var loader))
        {
            loader = new BatchLoader<TKey, TValue>(fetch);
            _loaders[name] = loader;
        }

        return (BatchLoader<TKey, TValue>)loader;
    }
}

public static class GraphQLContextExtensions
{
    public static GraphQLRequestContext Request(this IResolveFieldContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return (GraphQLRequestContext)context.UserContext;
    }

    public static Caller Caller(this IResolveFieldContext context) => context.Request().Caller;
}
