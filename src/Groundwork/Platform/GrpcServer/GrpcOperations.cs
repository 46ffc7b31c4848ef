using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GrpcServer;

/// <summary>
/// The gRPC transport adapter: build the caller from the call's metadata (the same authentication handlers as
/// HTTP read <c>authorization</c> and <c>x-api-key</c>), run the operation through the pipeline, and turn an
/// <see cref="Error"/> into a status with rich details (docs/adr/0008-grpc-transport.md). Services stay translation only.
/// </summary>
public static class GrpcOperations
{
    public const string IdempotencyKeyHeader = "idempotency-key";

    /// <summary>
    /// The operation a method runs, resolved for the call when the method runs: a service constructed with every
    /// operation it serves would build all of them, and their dependencies, for each call.
    /// </summary>
    public static TOperation Operation<TOperation>(this ServerCallContext context)
        where TOperation : notnull
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetHttpContext().RequestServices.GetRequiredService<TOperation>();
    }

    /// <summary>
    /// Runs an operation through the pipeline with the call's <c>idempotency-key</c> metadata (if sent); the
    /// operation decides whether it matters. A replay is marked with the <c>idempotent-replayed</c> header.
    /// </summary>
    public static async Task<TResponse> RunAsync<TRequest, TResponse>(
        this ServerCallContext context, IOperation<TRequest, TResponse> operation, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.GetHttpContext();
        var pipeline = http.RequestServices.GetRequiredService<OperationPipeline>();
        // The call's token fires at the client's deadline or cancellation, which cancels the database work too.
        var call = new OperationCall(http.ToCaller(), context.CancellationToken)
        {
            // Read as REST and GraphQL read it (the call's RequestHeaders would copy every header into metadata first).
            IdempotencyKey = http.Request.Headers.TryGetValue(IdempotencyKeyHeader, out var key) ? key.ToString() : null,
            IdempotencyKeyField = IdempotencyKeyHeader,
        };
        var result = await pipeline.ExecuteAsync(operation, request, call);
        if (!result.IsSuccess)
        {
            throw ToRpcException(result.Error, http.TraceIdentifier);
        }

        if (result.Value.Replayed)
        {
            await context.WriteResponseHeadersAsync(new Metadata { { "idempotent-replayed", "true" } });
        }

        return result.Value.Value;
    }

    public static Guid ParseId(string? raw, string field) =>
        Guid.TryParse(raw, out var id) ? id : throw ToRpcException(Error.Validation(field, "Must be a valid id"), null);

    public static Guid? ParseOptionalId(string? raw, string field) => string.IsNullOrEmpty(raw) ? null : ParseId(raw, field);

    public static StatusCode StatusFor(Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Code switch
        {
            ErrorCode.ValidationError or ErrorCode.UnsupportedMediaType => StatusCode.InvalidArgument,
            ErrorCode.AuthenticationError => StatusCode.Unauthenticated,
            ErrorCode.AuthorizationError => StatusCode.PermissionDenied,
            ErrorCode.NotFound => StatusCode.NotFound,
            ErrorCode.MethodNotAllowed => StatusCode.Unimplemented,
            ErrorCode.Conflict => error.ConflictKind switch
            {
                ConflictKind.Duplicate => StatusCode.AlreadyExists,
                ConflictKind.Concurrency => StatusCode.Aborted,
                _ => StatusCode.FailedPrecondition,
            },
            ErrorCode.PreconditionFailed or ErrorCode.InsufficientFunds or ErrorCode.CurrencyMismatch or ErrorCode.IdempotencyKeyReused
                => StatusCode.FailedPrecondition,
            ErrorCode.PayloadTooLarge or ErrorCode.RateLimited => StatusCode.ResourceExhausted,
            ErrorCode.ServiceUnavailable => StatusCode.Unavailable,
            _ => StatusCode.Internal,
        };
    }

    /// <summary>
    /// The status plus <c>google.rpc</c> details: <c>ErrorInfo</c> (reason = the catalogue code, docs/api/errors.md, so clients can tell
    /// INSUFFICIENT_FUNDS from CURRENCY_MISMATCH), <c>BadRequest</c> field violations, <c>RetryInfo</c>.
    /// </summary>
    public static RpcException ToRpcException(Error error, string? requestId) => ToRpcStatus(error, requestId).ToRpcException();

    /// <summary>The <c>google.rpc.Status</c> of an error (also written by hand for calls refused before a service runs).</summary>
    public static Google.Rpc.Status ToRpcStatus(Error error, string? requestId)
    {
        ArgumentNullException.ThrowIfNull(error);
        var info = new Google.Rpc.ErrorInfo { Reason = error.Code.WireName(), Domain = "groundwork" };
        if (requestId is not null)
        {
            info.Metadata.Add("requestId", requestId);
        }

        var status = new Google.Rpc.Status { Code = (int)StatusFor(error), Message = error.Message, Details = { Any.Pack(info) } };
        if (error.Details is { Count: > 0 } details)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.AddRange(details.Select(d => new BadRequest.Types.FieldViolation { Field = d.Field, Description = d.Message }));
            status.Details.Add(Any.Pack(badRequest));
        }

        if (error.RetryAfterSeconds is { } retry)
        {
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(retry)) }));
        }

        return status;
    }

    /// <summary>Timestamps travel at millisecond precision on every transport (REST and GraphQL JSON too).</summary>
    public static Timestamp? Time(DateTime? value) =>
        value is { } v ? Timestamp.FromDateTime(DateTime.SpecifyKind(v.AddTicks(-(v.Ticks % TimeSpan.TicksPerMillisecond)), DateTimeKind.Utc)) : null;
}
