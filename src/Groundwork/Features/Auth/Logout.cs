using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

/// <param name="RefreshToken">Optional: end the session of this token instead of the current one.</param>
public sealed record LogoutRequest(string? RefreshToken = null);

public sealed class LogoutValidator : AbstractValidator<LogoutRequest>
{
    public LogoutValidator() => RuleFor(r => r.RefreshToken).MaximumLength(200);
}

public sealed class Logout(GroundworkDbContext db, SessionRevocation revocation) : IOperation<LogoutRequest, Unit>
{
    public Policy Policy => Policy.SessionOnly;

    public Execution Execution => Execution.Write;

    public async Task<Result<Unit>> HandleAsync(LogoutRequest request, Caller caller, CancellationToken cancellationToken)
    {
        Guid? sessionId = caller.SessionId;
        if (request.RefreshToken is { Length: > 0 } token)
        {
            var hash = Secrets.Hash(token);
            // Only a session of the caller's own: a stranger's token is "not found", not a way to log others out.
            sessionId = await db.RefreshTokens.Where(t => t.TokenHash == hash)
                .Join(db.Sessions, t => t.SessionId, s => s.Id, (t, s) => s)
                .Where(s => s.UserId == caller.UserId)
                .Select(s => (Guid?)s.Id)
                .FirstOrDefaultAsync(cancellationToken);
            if (sessionId is null)
            {
                return Error.NotFound("Session");
            }
        }

        if (sessionId is null)
        {
            return Error.Validation("refreshToken", "API-key callers have no session; pass the refresh token of the session to end");
        }

        await revocation.RevokeAsync(sessionId.Value, "logout", cancellationToken);
        return Unit.Value;
    }
}
