using Groundwork.Platform.WriteBehind;
using Microsoft.Extensions.Caching.Memory;

namespace Groundwork.Platform.Auth;

/// <summary>
/// Answers "which live key is this secret, and whose?" for every <c>X-API-Key</c> request, like
/// <see cref="SessionStatus"/> does for sessions: a found key is cached for at most one second (keyed by the
/// secret's hash; unknown secrets are never cached), so revocation and expiry bite within a second on every node
/// and at once on the node that revoked. Each use is recorded for write-behind.
/// </summary>
public sealed class ApiKeyStatus(IServiceScopeFactory scopes, IMemoryCache cache, LastSeenBuffer lastSeen, TimeProvider clock)
{
    public async Task<ApiKeyOwner?> FindActiveAsync(string secretHash, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (!cache.TryGetValue(CacheKey(secretHash), out ApiKeyOwner? owner) || owner?.ExpiresAt <= now)
        {
            await using var scope = scopes.CreateAsyncScope();
            owner = await scope.ServiceProvider.GetRequiredService<IApiKeyLookup>().FindActiveAsync(secretHash, now, cancellationToken);
            if (owner is not null)
            {
                cache.Set(CacheKey(secretHash), owner, SessionStatus.MaxStaleness);
            }
        }

        if (owner is not null)
        {
            lastSeen.Touch(LastSeenKinds.ApiKey, owner.KeyId, now);
        }

        return owner;
    }

    /// <summary>Drops this node's cached answer (after a revocation commits); other nodes follow within a second.</summary>
    public void Forget(string secretHash) => cache.Remove(CacheKey(secretHash));

    private static string CacheKey(string secretHash) => $"api-key-status:{secretHash}";
}
