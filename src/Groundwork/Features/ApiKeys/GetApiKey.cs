using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.ApiKeys;

public sealed record GetApiKeyRequest(Guid Id);

public sealed class GetApiKey(GroundworkDbContext db) : IOperation<GetApiKeyRequest, ApiKeyDto>
{
    public Policy Policy => Policy.SessionOnly;

    public async Task<Result<ApiKeyDto>> HandleAsync(GetApiKeyRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == request.Id && k.UserId == caller.UserId, cancellationToken);
        return key is null ? Error.NotFound("API key") : ApiKeyDto.From(key);
    }
}
