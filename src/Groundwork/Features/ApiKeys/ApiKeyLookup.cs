using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.WriteBehind;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.ApiKeys;

/// <summary>
/// Resolves an <c>X-API-Key</c> secret (by hash) to the key's owner, and records its use in the write-behind buffer
/// (no write on the request's path).
/// </summary>
public sealed class ApiKeyLookup(GroundworkDbContext db, LastSeenBuffer lastSeen) : IApiKeyLookup
{
    public async Task<ApiKeyOwner?> FindActiveAsync(string secretHash, DateTime now, CancellationToken cancellationToken)
    {
        var found = await db.ApiKeys.AsNoTracking()
            .Where(k => k.SecretHash == secretHash && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .Join(db.Users, k => k.UserId, u => u.Id, (k, u) => new { k.Id, k.UserId, k.Scopes, u.Role })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        lastSeen.Touch(LastSeenKinds.ApiKey, found.Id, now);
        return new ApiKeyOwner(found.Id, found.UserId, found.Role, found.Scopes);
    }
}
