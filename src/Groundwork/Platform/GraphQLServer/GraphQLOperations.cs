using GraphQL;
using GraphQL.DataLoader;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// The GraphQL transport adapter for resolvers: run an operation through the same pipeline as REST and gRPC,
/// return its value or raise its <see cref="Error"/> as a GraphQL error carrying the catalogue code.
/// </summary>
public static class GraphQLOperations
{
    public static TOperation Operation<TOperation>(this IResolveFieldContext context)
        where TOperation : notnull
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.RequestServices!.GetRequiredService<TOperation>();
    }

    /// <summary>
    /// Runs an operation through the pipeline. The idempotency key is the field's <c>idempotencyKey</c> argument when
    /// it has one, else the request's <c>Idempotency-Key</c> header (the seed mutations' signatures are fixed); the
    /// operation decides whether it matters. A root mutation field whose operation commits (it succeeds, or fails
    /// keeping its changes) is recorded as applied
    /// (<see cref="GraphQLRequestContext.AppliedMutations"/>): every mutation resolver runs its operation here, so an
    /// answer the resolution budget stops can name the changes that stand.
    /// </summary>
    public static async Task<TResponse> RunAsync<TRequest, TResponse>(
        this IResolveFieldContext context, IOperation<TRequest, TResponse> operation, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pipeline = context.RequestServices!.GetRequiredService<OperationPipeline>();
        var fromArgument = context.FieldDefinition.Arguments?.Find(KeyArgument) is not null;
        var call = new OperationCall(context.Caller(), context.CancellationToken)
        {
            IdempotencyKey = fromArgument ? context.GetArgument<string?>(KeyArgument) : context.Request().IdempotencyKeyFromHeader,
            IdempotencyKeyField = fromArgument ? KeyArgument : GraphQLRequestContext.IdempotencyKeyHeader,
        };
        var result = await pipeline.ExecuteAsync(operation, request, call);
        if ((result.IsSuccess || result.Error.KeepsChanges) && context.ParentType == context.Schema.Mutation)
        {
            context.Request().MutationApplied(context.FieldAst.Alias?.Name.StringValue ?? context.FieldAst.Name.StringValue);
        }

        return result.IsSuccess ? result.Value.Value : throw new OperationException(result.Error);
    }

    private const string KeyArgument = "idempotencyKey";

    /// <summary>
    /// Loads <paramref name="key"/> through a batch operation: every key asked for at one level of the query is
    /// fetched by one run of <paramref name="operation"/> through the pipeline (its policy applies to the batch).
    /// A batch is named after its operation unless <paramref name="batch"/> names it, and the first field to ask under a
    /// name sets the <paramref name="operation"/> and <paramref name="toRequest"/> of every fetch under it: fields whose
    /// batches need different requests (another selection) use names of their own. <paramref name="toRequest"/> runs
    /// when the batch is fetched. A batch refused as invalid stops the whole request with that one error, as an
    /// exceeded resolution budget does: the transport built its request, so what is invalid is what the document
    /// asked for (too much content); any other refusal is each waiting field's error.
    /// </summary>
    public static IDataLoaderResult<TValue?> LoadBatched<TKey, TRequest, TValue>(
        this IResolveFieldContext context,
        IOperation<TRequest, IReadOnlyDictionary<TKey, TValue>> operation,
        Func<IReadOnlyCollection<TKey>, TRequest> toRequest,
        TKey key,
        string? batch = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(operation);
        var request = context.Request();
        var pipeline = context.RequestServices!.GetRequiredService<OperationPipeline>();
        return request.Loader<TKey, TValue>(batch ?? operation.GetType().Name, async (keys, ct) =>
        {
            var result = await pipeline.RunAsync(operation, toRequest(keys), request.Caller, ct);
            if (!result.IsSuccess && result.Error.Code == ErrorCode.ValidationError && request.Budget is { } budget)
            {
                budget.Refuse(result.Error);
            }

            return result.IsSuccess ? result.Value : throw new OperationException(result.Error);
        }).Load(key);
    }

    /// <summary>An <c>ID!</c> argument as the GUID every Groundwork id is; anything else is a validation error.</summary>
    public static Guid GetId(this IResolveFieldContext context, string name = "id")
    {
        ArgumentNullException.ThrowIfNull(context);
        return ParseId(context.GetArgument<string?>(name), name);
    }

    public static Guid? GetOptionalId(this IResolveFieldContext context, string name)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetArgument<string?>(name) is { } raw ? ParseId(raw, name) : null;
    }

    public static Guid ParseId(string? raw, string field) =>
        Guid.TryParse(raw, out var id) ? id : throw new OperationException(Error.Validation(field, "Must be a valid id"));
}

/// <summary>An operation's <see cref="Error"/> travelling as a GraphQL error.</summary>
public sealed class OperationException : ExecutionError
{
    public OperationException(Error error)
        : base((error ?? throw new ArgumentNullException(nameof(error))).Message)
    {
        Error = error;
        Code = error.Code.WireName();
    }

    public Error Error { get; }
}
