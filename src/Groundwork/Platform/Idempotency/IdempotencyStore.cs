using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Platform.Idempotency;

/// <summary>What a request carries for idempotency: who, which key, and a fingerprint of the request itself.</summary>
public sealed record IdempotencyRequest(string Principal, string Key, string Method, string Path, string Fingerprint);

/// <summary>A stored response, replayed byte for byte.</summary>
public sealed record StoredResponse(int Status, string Body, string? Location);

public abstract record ClaimOutcome
{
    public sealed record Claimed(Guid LockToken) : ClaimOutcome;
    public sealed record Replay(StoredResponse Response) : ClaimOutcome;
    public sealed record Refused(Error Error) : ClaimOutcome;
}

/// <summary>
/// Stripe-style idempotency over the database, so it holds across server processes: claim, then complete in
/// the business transaction, or release on failure (see docs/adr/0005-idempotency.md).
/// </summary>
public sealed class IdempotencyStore(IServiceScopeFactory scopes, TimeProvider clock, GroundworkSettings settings)
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    // Default 60 s, longer than the 30 s request timeout: a live request never loses its claim; a crashed one frees it.
    private TimeSpan ClaimLifetime => settings.IdempotencyClaimTimeout;

    public async Task<ClaimOutcome> ClaimAsync(IdempotencyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var token = Guid.NewGuid();

        for (var attempt = 0; attempt < 3; attempt++)
        {
            var existing = await db.IdempotencyRecords.AsNoTracking()
                .FirstOrDefaultAsync(r => r.Principal == request.Principal && r.Key == request.Key, cancellationToken);
            if (existing is not null && existing.ExpiresAt <= now)
            {
                await db.IdempotencyRecords.Where(r => r.Principal == request.Principal && r.Key == request.Key && r.ExpiresAt <= now)
                    .ExecuteDeleteAsync(cancellationToken);
                existing = null;
            }

            if (existing is null)
            {
                db.IdempotencyRecords.Add(new IdempotencyRecord
                {
                    Principal = request.Principal,
                    Key = request.Key,
                    Method = request.Method,
                    Path = request.Path,
                    Fingerprint = request.Fingerprint,
                    State = IdempotencyState.InFlight,
                    LockToken = token,
                    LockedUntil = now + ClaimLifetime,
                    CreatedAt = now,
                    ExpiresAt = now + Retention,
                });
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                    return new ClaimOutcome.Claimed(token);
                }
                catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
                {
                    db.ChangeTracker.Clear();
                    continue; // another request claimed it first: look again
                }
            }

            if (existing.Method != request.Method || existing.Path != request.Path || existing.Fingerprint != request.Fingerprint)
            {
                return new ClaimOutcome.Refused(new Error(ErrorCode.IdempotencyKeyReused,
                    "This Idempotency-Key was used for a different request",
                    [new FieldError("Idempotency-Key", "Already used with another method, path or body")]));
            }

            if (existing.State == IdempotencyState.Completed)
            {
                return new ClaimOutcome.Replay(new StoredResponse(existing.ResponseStatus!.Value, existing.ResponseBody!, existing.ResponseLocation));
            }

            if (existing.LockedUntil > now)
            {
                return new ClaimOutcome.Refused(Error.Conflict("A request with this Idempotency-Key is still in progress; retry later", ConflictKind.Concurrency));
            }

            // The holder died mid-flight (its transaction never committed): take the claim over.
            var taken = await db.IdempotencyRecords
                .Where(r => r.Principal == request.Principal && r.Key == request.Key && r.State == IdempotencyState.InFlight && r.LockToken == existing.LockToken)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.LockToken, token).SetProperty(r => r.LockedUntil, now + ClaimLifetime), cancellationToken);
            if (taken == 1)
            {
                return new ClaimOutcome.Claimed(token);
            }
        }

        return new ClaimOutcome.Refused(Error.Conflict("A request with this Idempotency-Key is still in progress; retry later", ConflictKind.Concurrency));
    }

    /// <summary>
    /// Marks the claim completed with its response, on the operation's DbContext and inside its transaction, so
    /// the record commits exactly when the business change does.
    /// </summary>
    public static async Task CompleteAsync(GroundworkDbContext db, IdempotencyRequest request, Guid lockToken, StoredResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        var updated = await db.IdempotencyRecords
            .Where(r => r.Principal == request.Principal && r.Key == request.Key && r.State == IdempotencyState.InFlight && r.LockToken == lockToken)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.State, IdempotencyState.Completed)
                .SetProperty(r => r.ResponseStatus, response.Status)
                .SetProperty(r => r.ResponseBody, response.Body)
                .SetProperty(r => r.ResponseLocation, response.Location), cancellationToken);
        if (updated != 1)
        {
            // Our claim expired and another request took it over: abort, so the work is not done twice.
            throw new IdempotencyClaimLostException();
        }
    }

    /// <summary>Forgets a claim whose request failed, so a corrected retry with the same key can run.</summary>
    public async Task ReleaseAsync(IdempotencyRequest request, Guid lockToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        await db.IdempotencyRecords
            .Where(r => r.Principal == request.Principal && r.Key == request.Key && r.State == IdempotencyState.InFlight && r.LockToken == lockToken)
            .ExecuteDeleteAsync(cancellationToken);
    }
}

public sealed class IdempotencyClaimLostException() : Exception("The idempotency claim was taken over by another request");
