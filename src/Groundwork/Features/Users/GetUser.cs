using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Caching;

namespace Groundwork.Features.Users;

public sealed record GetUserRequest(Guid Id);

/// <summary>Self, moderators and admins may read a user; anyone else is told it does not exist.</summary>
public sealed class GetUser(EntityCache cache) : IOperation<GetUserRequest, UserDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.UsersRead);

    public async Task<Result<UserDto>> HandleAsync(GetUserRequest request, Caller caller, CancellationToken cancellationToken)
    {
        if (!UserAccess.CanSeePrivate(caller, request.Id))
        {
            return Error.NotFound("User");
        }

        var user = await cache.GetUserAsync(request.Id, cancellationToken);
        return user is null ? Error.NotFound("User") : user;
    }
}
