using Groundwork.Features.Users;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

public sealed record MeRequest;

public sealed class Me(GroundworkDbContext db) : IOperation<MeRequest, UserDto>
{
    public Policy Policy => Policy.Authenticated();

    public async Task<Result<UserDto>> HandleAsync(MeRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == caller.UserId, cancellationToken);
        return user is null ? Error.Unauthenticated() : UserDto.From(user);
    }
}
