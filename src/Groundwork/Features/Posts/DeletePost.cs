using Groundwork.Platform.Caching;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

public sealed record DeletePostRequest(Guid Id, int? ExpectedVersion = null);

/// <summary>The author, moderators and admins delete a post.</summary>
public sealed class DeletePost(GroundworkDbContext db, TimeProvider clock, CacheWrites cache) : IOperation<DeletePostRequest, Unit>
{
    public Policy Policy => Policy.Authenticated(Scopes.PostsWrite);

    public Execution Execution => Execution.Write;

    public async Task<Result<Unit>> HandleAsync(DeletePostRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var post = await db.Posts.FirstOrDefaultAsync(p => p.Id == request.Id, cancellationToken);
        if (post is null || !PostAccess.CanSee(caller, post))
        {
            return Error.NotFound("Post");
        }

        if (!caller.Is(post.AuthorId) && !caller.IsStaff)
        {
            return Error.Forbidden("Only the author or a moderator may delete a post");
        }

        if (request.ExpectedVersion is { } expected && expected != post.Version)
        {
            return Error.PreconditionFailed();
        }

        db.Posts.Remove(post);
        cache.Remove(PostCache.Kind, post.Id);
        cache.ListChanged(PostCache.List);
        PostEvents.Deleted(db, clock, post);
        return Unit.Value;
    }
}
