using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.Posts;

/// <param name="Published">Absent means a draft; one value for "no", so the same post sent over any transport is the same request.</param>
public sealed record CreatePostRequest(string? Title, string? Content, bool Published = false);

public sealed class CreatePostValidator : AbstractValidator<CreatePostRequest>
{
    public CreatePostValidator()
    {
        RuleFor(r => r.Title).Must(t => !string.IsNullOrWhiteSpace(t)).WithMessage("Title is required").MaximumLength(200);
        RuleFor(r => r.Content).Must(c => !string.IsNullOrWhiteSpace(c)).WithMessage("Content is required").MaximumLength(50_000);
    }
}

/// <summary>Any signed-in user writes a post, a draft unless <c>published</c> is true.</summary>
public sealed class CreatePost(GroundworkDbContext db, TimeProvider clock, CacheWrites cache) : IOperation<CreatePostRequest, PostDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.PostsWrite);

    public Execution Execution => Execution.WriteWithOptionalKey("posts.create");

    public Task<Result<PostDto>> HandleAsync(CreatePostRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var published = request.Published;
        var post = new Post
        {
            AuthorId = caller.UserId!.Value,
            Title = request.Title!.Trim(),
            Content = request.Content!,
            Published = published,
            PublishedAt = published ? now : null,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Posts.Add(post);
        cache.ListChanged(PostCache.List);
        if (published)
        {
            PostEvents.Published(db, clock, post);
        }

        return Task.FromResult<Result<PostDto>>(PostDto.From(post));
    }
}
