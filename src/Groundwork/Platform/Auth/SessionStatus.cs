using Microsoft.Extensions.Caching.Memory;

namespace Groundwork.Platform.Auth;

/// <summary>
/// Answers "is this session still alive, and what is its user's role now?" for every bearer request.
/// The answer is cached for at most one second, which bounds how long a revoked session's access tokens keep
/// working on any node (docs/adr/0003-sessions-and-tokens.md) while sparing the database one lookup per request.
/// </summary>
public sealed class SessionStatus(IServiceScopeFactory scopes, IMemoryCache cache, TimeProvider clock)
{
    public static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(1);

    public async Task<ActiveSession?> GetActiveAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(CacheKey(sessionId), out ActiveSession? cached))
        {
            return cached;
        }

        await using var scope = scopes.CreateAsyncScope();
        var active = await scope.ServiceProvider.GetRequiredService<ISessionLookup>()
            .FindActiveAsync(sessionId, clock.GetUtcNow().UtcDateTime, cancellationToken);
        cache.Set(CacheKey(sessionId), active, MaxStaleness);
        return active;
    }

    /// <summary>Drops this node's cached answer at once; other nodes see the revocation within a second.</summary>
    public void Forget(Guid sessionId) => cache.Remove(CacheKey(sessionId));

    /// <summary>Whether this node holds a cached answer for the session (tests of when it is dropped).</summary>
    internal bool IsCached(Guid sessionId) => cache.TryGetValue(CacheKey(sessionId), out _);

    private static string CacheKey(Guid sessionId) => $"session-status:{sessionId}";
}
