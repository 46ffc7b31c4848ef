using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.ApiKeys;

/// <summary>Resolves an <c>X-API-Key</c> secret (by hash) to a live key's owner (cached by <c>ApiKeyStatus</c>).</summary>
public sealed class ApiKeyLookup(GroundworkDbContext db) : IApiKeyLookup
{
    public Task<ApiKeyOwner?> FindActiveAsync(string secretHash, DateTime now, CancellationToken cancellationToken) =>
        FindAsync(db.ApiKeys.Where(k => k.SecretHash == secretHash), now, cancellationToken);

    public Task<ApiKeyOwner?> FindActiveByIdAsync(Guid keyId, DateTime now, CancellationToken cancellationToken) =>
        FindAsync(db.ApiKeys.Where(k => k.Id == keyId), now, cancellationToken);

    private async Task<ApiKeyOwner?> FindAsync(IQueryable<ApiKey> keys, DateTime now, CancellationToken cancellationToken)
    {
        var found = await keys.AsNoTracking()
            .Where(k => k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .Join(db.Users, k => k.UserId, u => u.Id, (k, u) => new { k.Id, k.UserId, k.Scopes, k.ExpiresAt, u.Role })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        return new ApiKeyOwner(found.Id, found.UserId, found.Role, found.Scopes, found.ExpiresAt);
    }
}
