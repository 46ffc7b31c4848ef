namespace Groundwork.Platform.Operations;

/// <summary>
/// What a transport hands the pipeline besides the request: who is calling, the idempotency key the client sent
/// (if any) and the name of the place it came from, for error messages (<c>Idempotency-Key</c> header,
/// <c>idempotencyKey</c> argument, <c>idempotency-key</c> metadata). Whether the key matters is the operation's call.
/// </summary>
public sealed record OperationCall(Caller Caller, CancellationToken CancellationToken)
{
    public string? IdempotencyKey { get; init; }

    public string IdempotencyKeyField { get; init; } = "Idempotency-Key";

    /// <summary>
    /// What the transport could not even read into the request (an unknown query parameter, a malformed number):
    /// reported by the pipeline's validation step, after limits and policy, like any other invalid field.
    /// </summary>
    public IReadOnlyList<FieldError> InputErrors { get; init; } = [];
}

/// <summary>An operation's value, and whether it was replayed from an earlier request with the same idempotency key.</summary>
public readonly record struct Completed<T>(T Value, bool Replayed);
