using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

public sealed record GetAuthorsRequest(IReadOnlyCollection<Guid> Ids);

/// <summary>
/// The authors of posts the caller already reads (GraphQL's <c>Post.author</c> batch). An author is public as
/// part of a post, except the address: transports show <see cref="UserDto.Email"/> only where
/// <see cref="UserAccess.CanSeePrivate"/> allows.
/// </summary>
public sealed class GetAuthors(GroundworkDbContext db) : IOperation<GetAuthorsRequest, IReadOnlyDictionary<Guid, UserDto>>
{
    public Policy Policy => Policy.AnonymousOrScoped(Scopes.PostsRead);

    public async Task<Result<IReadOnlyDictionary<Guid, UserDto>>> HandleAsync(GetAuthorsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        // Deleted authors too: their posts stay (a soft delete keeps the owner of what a user made), and Post.author
        // is non-null, so a missing author nulled every public feed that listed one of those posts.
        var authors = await db.Users.AsNoTracking().IgnoreQueryFilters().Where(u => request.Ids.Contains(u.Id))
            .Select(u => new UserDto(u.Id, u.Email, u.Name, u.Role, u.CreatedAt, u.UpdatedAt) { Version = u.Version })
            .ToDictionaryAsync(u => u.Id, cancellationToken);
        return Result<IReadOnlyDictionary<Guid, UserDto>>.Success(authors);
    }
}
