using GraphQL;
using GraphQL.Execution;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// Shapes every GraphQL error for the wire: <c>extensions.code</c> from the catalogue (docs/api/errors.md), field
/// <c>details</c> for validation, the request id; never an exception's text or stack.
/// </summary>
public sealed class GraphQLErrors : IErrorInfoProvider
{
    /// <summary>The transport stamps each error with the request id under this key before writing.</summary>
    public const string RequestIdKey = "requestId";

    /// <summary>
    /// The root mutation fields a request applied before one of its fields failed or the resolution budget stopped
    /// it (<see cref="ResolutionBudget.StoppedAnswer"/>): their changes stand.
    /// </summary>
    public const string AppliedKey = "applied";

    public ErrorInfo GetInfo(ExecutionError executionError)
    {
        ArgumentNullException.ThrowIfNull(executionError);
        var (code, message, details) = executionError switch
        {
            OperationException o => (o.Error.Code, o.Error.Message, o.Error.Details),
            // Parse errors, validation rules, limits, variable coercion: the document itself is wrong.
            DocumentError d => (ErrorCode.ValidationError, d.Message, null),
            // Resolvers throw only OperationException; anything else is a bug or a broken dependency.
            _ => (ErrorCode.InternalError, "Internal server error", (IReadOnlyList<FieldError>?)null),
        };

        var extensions = new Dictionary<string, object?> { ["code"] = code.WireName() };
        if (details is { Count: > 0 })
        {
            extensions["details"] = details.Select(d => new Dictionary<string, object?> { ["field"] = d.Field, ["message"] = d.Message }).ToList();
        }

        if (executionError is OperationException { Error.RetryAfterSeconds: { } retry })
        {
            extensions["retryAfter"] = retry;
        }

        if (executionError.Data[AppliedKey] is string[] applied)
        {
            extensions[AppliedKey] = applied;
        }

        if (executionError.Data[RequestIdKey] is string requestId)
        {
            extensions[RequestIdKey] = requestId;
        }

        return new ErrorInfo { Message = message, Extensions = extensions };
    }
}
