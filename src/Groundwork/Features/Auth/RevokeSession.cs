using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

public sealed record RevokeSessionRequest(Guid Id);

/// <summary>Ends one of the caller's own sessions; someone else's session is "not found".</summary>
public sealed class RevokeSession(GroundworkDbContext db, SessionRevocation revocation) : IOperation<RevokeSessionRequest, Unit>
{
    public Policy Policy => Policy.SessionOnly;

    public Execution Execution => Execution.Write;

    public async Task<Result<Unit>> HandleAsync(RevokeSessionRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var owned = await db.Sessions.AnyAsync(s => s.Id == request.Id && s.UserId == caller.UserId && s.RevokedAt == null, cancellationToken);
        if (!owned)
        {
            return Error.NotFound("Session");
        }

        await revocation.RevokeAsync(request.Id, "revoked-by-user", cancellationToken);
        return Unit.Value;
    }
}
