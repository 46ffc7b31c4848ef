using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.ApiKeys;

public sealed record ListApiKeysRequest;

/// <summary>The caller's own keys (revoked ones included, so their history stays visible), newest first.</summary>
public sealed class ListApiKeys(GroundworkDbContext db) : IOperation<ListApiKeysRequest, IReadOnlyList<ApiKeyDto>>
{
    public Policy Policy => Policy.SessionOnly;

    public async Task<Result<IReadOnlyList<ApiKeyDto>>> HandleAsync(ListApiKeysRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var keys = await db.ApiKeys.AsNoTracking()
            .Where(k => k.UserId == caller.UserId)
            .OrderByDescending(k => k.CreatedAt)
            .Take(200)
            .ToListAsync(cancellationToken);
        return keys.Select(ApiKeyDto.From).ToList();
    }
}
