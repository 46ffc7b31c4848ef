using Groundwork.Features.Users;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Caching;

namespace Groundwork.Features.Auth;

public sealed record MeRequest;

public sealed class Me(EntityCache cache) : IOperation<MeRequest, UserDto>
{
    public Policy Policy => Policy.Authenticated();

    public async Task<Result<UserDto>> HandleAsync(MeRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var user = caller.UserId is { } id ? await cache.GetUserAsync(id, cancellationToken) : null;
        return user is null ? Error.Unauthenticated() : user;
    }
}
