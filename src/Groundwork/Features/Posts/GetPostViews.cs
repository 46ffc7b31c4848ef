using Groundwork.Platform.Auth;
using Groundwork.Platform.Caching;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.WriteBehind;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;


public sealed record GetPostViewsRequest(Guid Id);

public sealed record PostViewsDto(Guid PostId, long Views);

/// <summary>
/// How often a post was read (every successful single-post read, on any transport, counts one). Views are
/// buffered in memory and added to the row in batches (write-behind), so the number is what was written plus
/// what this node has not written yet; other nodes' unwritten views appear after their next flush.
/// </summary>
public sealed class GetPostViews(GroundworkDbContext db, EntityCache cache, CounterBuffer counters) : IOperation<GetPostViewsRequest, PostViewsDto>
{
    public Policy Policy => Policy.AnonymousOrScoped(Scopes.PostsRead);

    public async Task<Result<PostViewsDto>> HandleAsync(GetPostViewsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var post = await cache.GetPostAsync(request.Id, cancellationToken);
        if (post is null || !PostAccess.CanSee(caller, post))
        {
            return Error.NotFound("Post");
        }

        var written = await db.Posts.Where(p => p.Id == request.Id).Select(p => p.ViewCount).FirstOrDefaultAsync(cancellationToken);
        return new PostViewsDto(post.Id, written + counters.Pending(PostViews.Kind, post.Id));
    }
}
