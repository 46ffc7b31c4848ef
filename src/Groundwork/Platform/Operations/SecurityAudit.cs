using Groundwork.Platform.Messaging;
using Groundwork.Platform.Persistence;

namespace Groundwork.Platform.Operations;

/// <summary>An event an operation asks to record when it refuses a call (a failed sign-in).</summary>
public sealed record AuditEvent(string Type, Guid Subject, object Data, EventAudience Audience);

/// <summary>An operation whose refusals are security events (the pipeline records them; the refused call's own transaction is gone).</summary>
public interface IAuditedOperation<TRequest>
{
    AuditEvent? AuditRefusal(TRequest request, Caller caller, Error error);
}

/// <summary>
/// Records security events for refused calls, decided here once for every transport: an authorization failure of
/// a signed-in caller (<c>auth.access_denied</c>) and whatever an <see cref="IAuditedOperation{TRequest}"/>
/// declares (a failed sign-in). Each goes to the outbox in a small transaction of its own, so the audit log (a
/// durable consumer) and admins' streams see it. Refusals that cost an attacker nothing (no credential, a forged
/// token) are not written: refusing them must stay cheap.
/// </summary>
public sealed class SecurityAudit(IServiceScopeFactory scopes, TimeProvider clock, ILogger<SecurityAudit> logger)
{
    public const string AccessDenied = "auth.access_denied";

    /// <summary>One access_denied per user and operation per minute on each node: a user hammering a forbidden route cannot flood the log.</summary>
    public static readonly TimeSpan AccessDeniedQuiet = TimeSpan.FromMinutes(1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Guid, string), DateTime> _lastDenied = new();

    public async Task RecordRefusalAsync<TRequest, TResponse>(IOperation<TRequest, TResponse> operation, TRequest request, Caller caller, Error error)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(error);
        var audit = operation is IAuditedOperation<TRequest> audited ? audited.AuditRefusal(request, caller, error)
            : error.Code == ErrorCode.AuthorizationError && caller.UserId is { } userId
                ? new AuditEvent(AccessDenied, userId,
                    new { userId, operation = OperationPipeline.OperationName(operation), reason = error.Message, ip = caller.ClientIp, apiKeyId = caller.ApiKeyId },
                    EventAudience.OwnersAndAdmins(userId))
                : null;
        if (audit is null)
        {
            return;
        }

        // Counted before the throttle below: the metric shows the whole flood, the log one entry per minute.
        SecurityMetrics.AuthRefused(audit.Type);

        if (audit.Type == AccessDenied && caller.UserId is { } denied)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var key = (denied, OperationPipeline.OperationName(operation));
            if (_lastDenied.TryGetValue(key, out var last) && now - last < AccessDeniedQuiet)
            {
                return;
            }

            _lastDenied[key] = now;
            if (_lastDenied.Count > 100_000)
            {
                // Bounded: forget the quiet periods (the worst case is one more row per user and operation).
                _lastDenied.Clear();
            }
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            Outbox.Add(db, clock, audit.Type, audit.Subject, audit.Data, audit.Audience);
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The refusal stands either way; the log line above it (and this one) still tell the story.
            logger.LogWarning(e, "Could not record {Type} for {Operation}", audit.Type, OperationPipeline.OperationName(operation));
        }
    }
}
