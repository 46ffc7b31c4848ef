using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.ApiKeys;

/// <summary>Resolves an <c>X-API-Key</c> secret (by hash) to the key's owner, and records when it was last used.</summary>
public sealed class ApiKeyLookup(GroundworkDbContext db) : IApiKeyLookup
{
    // lastUsedAt is informational; writing it at most once a minute keeps reads from becoming writes.
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    public async Task<ApiKeyOwner?> FindActiveAsync(string secretHash, DateTime now, CancellationToken cancellationToken)
    {
        var found = await db.ApiKeys.AsNoTracking()
            .Where(k => k.SecretHash == secretHash && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .Join(db.Users, k => k.UserId, u => u.Id, (k, u) => new { k.Id, k.UserId, k.Scopes, k.LastUsedAt, u.Role })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        if (found.LastUsedAt is null || now - found.LastUsedAt > LastUsedResolution)
        {
            await db.ApiKeys.Where(k => k.Id == found.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        }

        return new ApiKeyOwner(found.Id, found.UserId, found.Role, found.Scopes);
    }
}
