using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Caching;
using Groundwork.Platform.WriteBehind;

namespace Groundwork.Features.Posts;

public sealed record GetPostRequest(Guid Id);

public sealed class GetPost(EntityCache cache, CounterBuffer counters) : IOperation<GetPostRequest, PostDto>
{
    public Policy Policy => Policy.AnonymousOrScoped(Scopes.PostsRead);

    public async Task<Result<PostDto>> HandleAsync(GetPostRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var post = await cache.GetPostAsync(request.Id, cancellationToken);
        if (post is null || !PostAccess.CanSee(caller, post))
        {
            return Error.NotFound("Post");
        }

        counters.Add(PostViews.Kind, post.Id);
        return post;
    }
}
