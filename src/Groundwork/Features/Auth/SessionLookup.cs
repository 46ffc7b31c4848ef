using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

/// <summary>The session check behind every bearer request (cached for a second by <see cref="SessionStatus"/>).</summary>
public sealed class SessionLookup(GroundworkDbContext db) : ISessionLookup
{
    public Task<ActiveSession?> FindActiveAsync(Guid sessionId, DateTime now, CancellationToken cancellationToken) =>
        db.Sessions
            .Where(s => s.Id == sessionId && s.RevokedAt == null && s.ExpiresAt > now)
            .Join(db.Users, s => s.UserId, u => u.Id, (s, u) => new ActiveSession(u.Id, u.Role))
            .FirstOrDefaultAsync(cancellationToken);
}
