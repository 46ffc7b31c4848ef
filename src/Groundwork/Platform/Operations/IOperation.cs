namespace Groundwork.Platform.Operations;

/// <summary>
/// One use case. It declares what the pipeline must enforce (<see cref="Policy"/>, <see cref="Execution"/>,
/// <see cref="RateLimits"/>) and implements only the handler. Transports never call <see cref="HandleAsync"/>
/// directly: they go through <see cref="OperationPipeline"/>, so every rule holds the same over REST, GraphQL and gRPC.
/// </summary>
public interface IOperation<TRequest, TResponse>
{
    /// <summary>Who may call at all: authentication, role, API-key scope.</summary>
    Policy Policy { get; }

    /// <summary>How the handler runs: a plain read (the default), a snapshot read, or a write with its idempotency rule.</summary>
    Execution Execution => Execution.Read;

    /// <summary>
    /// The request with what the caller may leave out filled in (an order's buyer is the caller, a new user's role is
    /// user), before validation. The idempotency fingerprint is taken of this form, so the same content is the same
    /// request whether a transport sent the default or left it out: REST names an order's buyer in its path, GraphQL
    /// and gRPC leave it out.
    /// </summary>
    TRequest WithDefaults(TRequest request, Caller caller) => request;

    /// <summary>Limits taken before anything else runs (login per IP and per account, transfers per user).</summary>
    IReadOnlyList<OperationLimit<TRequest>> RateLimits => [];

    /// <summary>
    /// Expensive work the handler will need, done before the transaction opens, so that no database connection (and
    /// on SQLite no write lock) is held while it runs: a password's bcrypt (ADR 0025). It runs after the rate limits,
    /// policy and validation, once however often the transaction is retried, and also for a request whose
    /// idempotency key turns out to be a replay. So it never refuses on what is stored (a replay must still replay),
    /// and what it reads from the database the handler must check again inside the transaction
    /// (<see cref="Auth.PasswordHasher.MatchesAsync"/>). Only the node itself may refuse here: a full hashing queue
    /// throws <see cref="NodeBusyException"/>, which the pipeline answers with a 503 to retry. Keep what it computes
    /// in a field of the operation (one instance per request scope, where writes run one at a time).
    /// </summary>
    Task PrepareAsync(TRequest request, Caller caller, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The use case. Writes run inside the pipeline's transaction: stage changes on the DbContext (or run set-based
    /// updates) and return; the pipeline saves, records the idempotency key and commits. Never open a transaction
    /// or call SaveChanges here.
    /// </summary>
    Task<Result<TResponse>> HandleAsync(TRequest request, Caller caller, CancellationToken cancellationToken);
}
