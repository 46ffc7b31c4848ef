using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

public sealed record SessionDto(Guid Id, DateTime CreatedAt, DateTime LastSeenAt, DateTime ExpiresAt, string? UserAgent, string? Ip, bool Current);

public sealed record ListSessionsRequest;

/// <summary>The caller's live sessions, newest first.</summary>
public sealed class ListSessions(GroundworkDbContext db, TimeProvider clock) : IOperation<ListSessionsRequest, IReadOnlyList<SessionDto>>
{
    private const int MaxSessions = 100;

    public Policy Policy => Policy.SessionOnly;

    public async Task<Result<IReadOnlyList<SessionDto>>> HandleAsync(ListSessionsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var current = caller.SessionId;
        var sessions = await db.Sessions.AsNoTracking()
            .Where(s => s.UserId == caller.UserId && s.RevokedAt == null && s.ExpiresAt > now)
            .OrderByDescending(s => s.CreatedAt)
            .Take(MaxSessions)
            .Select(s => new SessionDto(s.Id, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.UserAgent, s.Ip, s.Id == current))
            .ToListAsync(cancellationToken);
        return sessions;
    }
}
