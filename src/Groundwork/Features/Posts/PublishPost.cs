using Groundwork.Platform.Caching;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

public sealed record PublishPostRequest(Guid Id);

public sealed record UnpublishPostRequest(Guid Id);

/// <summary>The author publishes; publishing a published post is a no-op that still answers the post.</summary>
public sealed class PublishPost(GroundworkDbContext db, TimeProvider clock, CacheWrites cache) : IOperation<PublishPostRequest, PostDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.PostsWrite);

    public Execution Execution => Execution.Write;

    public async Task<Result<PostDto>> HandleAsync(PublishPostRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var post = await db.Posts.FirstOrDefaultAsync(p => p.Id == request.Id, cancellationToken);
        if (post is null || !PostAccess.CanSee(caller, post))
        {
            return Error.NotFound("Post");
        }

        if (!caller.Is(post.AuthorId))
        {
            return Error.Forbidden("Only the author may publish a post");
        }

        if (!post.Published)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            post.Published = true;
            post.PublishedAt = now;
            post.UpdatedAt = now;
            post.Version++;
            PostEvents.Published(db, clock, post);
        }

        var result = PostDto.From(post);
        cache.Put(PostCache.Kind, post.Id, result);
        cache.ListChanged(PostCache.List);
        return result;
    }
}

/// <summary>The author, moderators and admins take a post down.</summary>
public sealed class UnpublishPost(GroundworkDbContext db, TimeProvider clock, CacheWrites cache) : IOperation<UnpublishPostRequest, PostDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.PostsWrite);

    public Execution Execution => Execution.Write;

    public async Task<Result<PostDto>> HandleAsync(UnpublishPostRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var post = await db.Posts.FirstOrDefaultAsync(p => p.Id == request.Id, cancellationToken);
        if (post is null || !PostAccess.CanSee(caller, post))
        {
            return Error.NotFound("Post");
        }

        if (!caller.Is(post.AuthorId) && !caller.IsStaff)
        {
            return Error.Forbidden("Only the author or a moderator may unpublish a post");
        }

        if (post.Published)
        {
            post.Published = false;
            post.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            post.Version++;
            PostEvents.Unpublished(db, clock, post);
        }

        var result = PostDto.From(post);
        cache.Put(PostCache.Kind, post.Id, result);
        cache.ListChanged(PostCache.List);
        return result;
    }
}
