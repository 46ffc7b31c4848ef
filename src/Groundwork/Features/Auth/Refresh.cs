using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

public sealed record RefreshRequest(string? RefreshToken);

public sealed class RefreshValidator : AbstractValidator<RefreshRequest>
{
    public RefreshValidator() => RuleFor(r => r.RefreshToken).NotEmpty().WithMessage("Refresh token is required").MaximumLength(200);
}

/// <summary>
/// Rotates a refresh token (RFC 9700): each token works once. Presenting a token that was already rotated
/// means someone else holds a copy, so the whole session is revoked and both holders must log in again.
/// </summary>
public sealed class Refresh(
    GroundworkDbContext db,
    SessionIssuer issuer,
    SessionRevocation revocation,
    TimeProvider clock,
    ILogger<Refresh> logger) : IOperation<RefreshRequest, TokenPair>
{
    public Policy Policy => Policy.Anonymous;

    /// <summary>No idempotency key: tokens are never stored for replay.</summary>
    public Execution Execution => Execution.Write;

    public async Task<Result<TokenPair>> HandleAsync(RefreshRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var hash = Secrets.Hash(request.RefreshToken!);
        var now = clock.GetUtcNow().UtcDateTime;
        var token = await db.RefreshTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (token is null)
        {
            return Invalid;
        }

        var session = await db.Sessions.Include(s => s.User).FirstOrDefaultAsync(s => s.Id == token.SessionId, cancellationToken);
        if (session?.User is null || session.RevokedAt is not null || session.ExpiresAt <= now)
        {
            return Invalid;
        }

        // The conditional update is the race guard: of two concurrent refreshes with one token, one wins.
        var rotated = await db.RefreshTokens.Where(t => t.TokenHash == hash && t.RotatedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RotatedAt, now), cancellationToken);
        if (rotated == 0)
        {
            // Someone else holds a copy: revoke the session, and keep that revocation although the call fails.
            await revocation.RevokeAsync(session.Id, "refresh-token-reuse", cancellationToken);
            AuthEvents.RefreshTokenReused(db, clock, session.UserId, session.Id, caller);
            logger.LogWarning("Refresh token reuse detected; session {SessionId} of user {UserId} revoked", session.Id, session.UserId);
            return Invalid with { KeepsChanges = true };
        }

        var next = issuer.AddRefreshToken(session.Id, now);
        session.LastSeenAt = now;
        return issuer.Pair(session.UserId, session.User.Role, session, next);
    }

    private static Error Invalid => Error.Unauthenticated("Invalid or expired refresh token");
}
