using GraphQL;
using Groundwork.Platform.Idempotency;
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

    public static async Task<TResponse> RunAsync<TRequest, TResponse>(
        this IResolveFieldContext context, IOperation<TRequest, TResponse> operation, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pipeline = context.RequestServices!.GetRequiredService<OperationPipeline>();
        var result = await pipeline.RunAsync(operation, request, context.Caller(), context.CancellationToken);
        return result.IsSuccess ? result.Value : throw new OperationException(result.Error);
    }

    /// <summary>Runs an operation under an idempotency key given as a field argument (SPEC §9).</summary>
    public static async Task<TResponse> RunIdempotentAsync<TRequest, TResponse>(
        this IResolveFieldContext context, IOperation<TRequest, TResponse> operation, TRequest request, string keyArgument = "idempotencyKey")
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = context.GetArgument<string?>(keyArgument);
        if (IdempotentExecution.ValidateKey(key, keyArgument) is { } invalid)
        {
            throw new OperationException(invalid);
        }

        var execution = context.RequestServices!.GetRequiredService<IdempotentExecution>();
        var result = await execution.RunValueAsync(operation.GetType().Name, key!, operation, request, context.Caller(), context.CancellationToken);
        return result.IsSuccess ? result.Value : throw new OperationException(result.Error);
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
