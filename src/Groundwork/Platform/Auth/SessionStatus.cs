using Microsoft.Extensions.Caching.Memory;

namespace Groundwork.Platform.Auth;

/// <summary>
/// Answers "is this session still alive, and what is its user's role now?" for every bearer request.
/// The answer is cached for at most one second, which bounds how long a revoked session's access tokens keep
/// working on any node (docs/adr/0003-sessions-and-tokens.md) while sparing the database one lookup per request.
/// </summary>
public sealed class SessionStatus(IServiceScopeFactory scopes, IMemoryCache cache, WriteBehind.LastSeenBuffer lastSeen, TimeProvider clock)
{
    public static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(1);

    /// <summary>The live session (its use recorded for write-behind), or null when revoked or expired.</summary>
    public async Task<ActiveSession?> GetActiveAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (!cache.TryGetValue(CacheKey(sessionId), out ActiveSession? active))
        {
            await using var scope = scopes.CreateAsyncScope();
            active = await scope.ServiceProvider.GetRequiredService<ISessionLookup>().FindActiveAsync(sessionId, now, cancellationToken);
            cache.Set(CacheKey(sessionId), active, MaxStaleness);
        }

        if (active is not null)
        {
            lastSeen.Touch(LastSeenKinds.Session, sessionId, now);
        }

        return active;
    }

    /// <summary>Drops this node's cached answer at once; other nodes see the revocation within a second.</summary>
    public void Forget(Guid sessionId) => cache.Remove(CacheKey(sessionId));

    /// <summary>Whether this node holds a cached answer for the session (tests of when it is dropped).</summary>
    internal bool IsCached(Guid sessionId) => cache.TryGetValue(CacheKey(sessionId), out _);

    private static string CacheKey(Guid sessionId) => $"session-status:{sessionId}";
}
