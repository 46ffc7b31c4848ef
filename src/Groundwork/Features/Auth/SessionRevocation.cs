using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

/// <summary>
/// Ends sessions for real: their refresh tokens stop working and their access tokens are refused within a second.
/// Runs inside the pipeline's transaction; the cached session status is dropped only after it commits, so a
/// request racing the revocation cannot cache the session as alive again.
/// </summary>
public sealed class SessionRevocation(GroundworkDbContext db, SessionStatus status, CommitHooks hooks, TimeProvider clock)
{
    public async Task<int> RevokeAsync(Guid sessionId, string reason, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var count = await db.Sessions.Where(s => s.Id == sessionId && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now).SetProperty(x => x.RevokedReason, reason), cancellationToken);
        hooks.AfterCommit(() => status.Forget(sessionId));
        return count;
    }

    /// <summary>Revokes every live session of the user except <paramref name="keep"/>.</summary>
    public async Task<int> RevokeAllAsync(Guid userId, Guid? keep, string reason, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var live = db.Sessions.Where(s => s.UserId == userId && s.RevokedAt == null && s.Id != keep);
        var ids = await live.Select(s => s.Id).ToListAsync(cancellationToken);
        var count = await live.ExecuteUpdateAsync(
            s => s.SetProperty(x => x.RevokedAt, now).SetProperty(x => x.RevokedReason, reason), cancellationToken);
        hooks.AfterCommit(() =>
        {
            foreach (var id in ids)
            {
                status.Forget(id);
            }
        });

        return count;
    }
}
