using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.ApiKeys;

public sealed record RevokeApiKeyRequest(Guid Id);

public sealed class RevokeApiKey(GroundworkDbContext db, ApiKeyStatusEviction eviction, TimeProvider clock) : IOperation<RevokeApiKeyRequest, Unit>
{
    public Policy Policy => Policy.Authenticated();

    public Execution Execution => Execution.Write;

    public async Task<Result<Unit>> HandleAsync(RevokeApiKeyRequest request, Caller caller, CancellationToken cancellationToken)
    {
        // A key may revoke itself (whoever finds a leaked key can always kill it), but no other key.
        if (caller.ApiKeyId is { } self && self != request.Id)
        {
            return Error.Forbidden("An API key may revoke only itself; sign in with a session to manage keys");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var owned = await db.ApiKeys.AnyAsync(k => k.Id == request.Id && k.UserId == caller.UserId, cancellationToken);
        if (!owned)
        {
            return Error.NotFound("API key");
        }

        await db.ApiKeys.Where(k => k.Id == request.Id && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken);
        await eviction.AfterCommitAsync(k => k.Id == request.Id, cancellationToken);
        return Unit.Value;
    }
}
