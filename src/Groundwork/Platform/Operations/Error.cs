namespace Groundwork.Platform.Operations;

/// <summary>The error catalogue (docs/api/errors.md). Every transport maps these codes; nothing else reaches a client.</summary>
public enum ErrorCode
{
    ValidationError,
    AuthenticationError,
    AuthorizationError,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    InsufficientFunds,
    IdempotencyKeyReused,
    CurrencyMismatch,
    RateLimited,
    InternalError,
    ServiceUnavailable,
}

public sealed record FieldError(string Field, string Message);

/// <summary>
/// What kind of 409 a conflict is. REST shows them all as CONFLICT; gRPC tells them apart
/// (ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED), so a client knows whether retrying can help.
/// </summary>
public enum ConflictKind
{
    /// <summary>The object is in the wrong state for this (order already paid): retrying will not help.</summary>
    State,

    /// <summary>Something unique already exists (an email): retrying will not help.</summary>
    Duplicate,

    /// <summary>A concurrent change or an in-flight request won the race: retry after re-reading.</summary>
    Concurrency,
}

/// <summary>An expected failure, returned as a value. Exceptions are for bugs and broken dependencies.</summary>
public sealed record Error(ErrorCode Code, string Message, IReadOnlyList<FieldError>? Details = null)
{
    private readonly int? _retryAfterSeconds;

    /// <summary>Seconds until the caller may retry: a rate limit's reset, or a busy node's estimate.</summary>
    public int? RetryAfterSeconds
    {
        get => RateLimit?.RetryAfterSeconds ?? _retryAfterSeconds;
        init => _retryAfterSeconds = value;
    }

    /// <summary>The limit that refused the call, for transports that report it (RateLimit headers).</summary>
    public RateLimiting.RateLimitDecision? RateLimit { get; init; }

    /// <summary>For <see cref="ErrorCode.Conflict"/>: which kind (see <see cref="ConflictKind"/>).</summary>
    public ConflictKind ConflictKind { get; init; }

    /// <summary>
    /// The operation failed, yet what it wrote must stand: a security response such as revoking a session whose
    /// refresh token was replayed. The pipeline commits instead of rolling back. Rare by design.
    /// </summary>
    public bool KeepsChanges { get; init; }

    public static Error Validation(string field, string message) =>
        new(ErrorCode.ValidationError, "Invalid input data", [new FieldError(field, message)]);

    public static Error Validation(IReadOnlyList<FieldError> details) =>
        new(ErrorCode.ValidationError, "Invalid input data", details);

    public static Error Unauthenticated(string message = "Authentication required") =>
        new(ErrorCode.AuthenticationError, message);

    public static Error Forbidden(string message = "You are not allowed to perform this action") =>
        new(ErrorCode.AuthorizationError, message);

    public static Error NotFound(string resource) => new(ErrorCode.NotFound, $"{resource} not found");

    public static Error Conflict(string message, ConflictKind kind = ConflictKind.State) => new(ErrorCode.Conflict, message) { ConflictKind = kind };

    public static Error Duplicate(string field, string message) =>
        new(ErrorCode.Conflict, message, [new FieldError(field, "Already registered")]) { ConflictKind = ConflictKind.Duplicate };

    public static Error PreconditionFailed() =>
        new(ErrorCode.PreconditionFailed, "The resource has changed since it was read (If-Match mismatch)");

    /// <summary>The node cannot take this work now (a full queue); nothing ran. Another node, or this one later, can.</summary>
    public static Error Busy(string message, int retryAfterSeconds) =>
        new(ErrorCode.ServiceUnavailable, message) { RetryAfterSeconds = retryAfterSeconds };

    public static Error RateLimited(RateLimiting.RateLimitDecision decision) =>
        new(ErrorCode.RateLimited, "Too many requests, retry later") { RateLimit = decision };
}

public static class ErrorCodes
{
    /// <summary>The wire name of a code, e.g. <c>VALIDATION_ERROR</c>.</summary>
    public static string WireName(this ErrorCode code) => code switch
    {
        ErrorCode.ValidationError => "VALIDATION_ERROR",
        ErrorCode.AuthenticationError => "AUTHENTICATION_ERROR",
        ErrorCode.AuthorizationError => "AUTHORIZATION_ERROR",
        ErrorCode.NotFound => "NOT_FOUND",
        ErrorCode.MethodNotAllowed => "METHOD_NOT_ALLOWED",
        ErrorCode.Conflict => "CONFLICT",
        ErrorCode.PreconditionFailed => "PRECONDITION_FAILED",
        ErrorCode.PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        ErrorCode.UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
        ErrorCode.InsufficientFunds => "INSUFFICIENT_FUNDS",
        ErrorCode.IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
        ErrorCode.CurrencyMismatch => "CURRENCY_MISMATCH",
        ErrorCode.RateLimited => "RATE_LIMITED",
        ErrorCode.InternalError => "INTERNAL_ERROR",
        ErrorCode.ServiceUnavailable => "SERVICE_UNAVAILABLE",
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, null),
    };

    public static int HttpStatus(this ErrorCode code) => code switch
    {
        ErrorCode.ValidationError => 400,
        ErrorCode.AuthenticationError => 401,
        ErrorCode.AuthorizationError => 403,
        ErrorCode.NotFound => 404,
        ErrorCode.MethodNotAllowed => 405,
        ErrorCode.Conflict => 409,
        ErrorCode.PreconditionFailed => 412,
        ErrorCode.PayloadTooLarge => 413,
        ErrorCode.UnsupportedMediaType => 415,
        ErrorCode.InsufficientFunds or ErrorCode.IdempotencyKeyReused or ErrorCode.CurrencyMismatch => 422,
        ErrorCode.RateLimited => 429,
        ErrorCode.ServiceUnavailable => 503,
        _ => 500,
    };

    public static ErrorCode FromHttpStatus(int status) => status switch
    {
        400 => ErrorCode.ValidationError,
        401 => ErrorCode.AuthenticationError,
        403 => ErrorCode.AuthorizationError,
        404 => ErrorCode.NotFound,
        405 => ErrorCode.MethodNotAllowed,
        409 => ErrorCode.Conflict,
        412 => ErrorCode.PreconditionFailed,
        413 => ErrorCode.PayloadTooLarge,
        415 => ErrorCode.UnsupportedMediaType,
        429 => ErrorCode.RateLimited,
        503 => ErrorCode.ServiceUnavailable,
        _ => status is >= 400 and < 500 ? ErrorCode.ValidationError : ErrorCode.InternalError,
    };
}
