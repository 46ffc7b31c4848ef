using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

public sealed record UpdatePostRequest(Guid Id, string? Title, string? Content, int? ExpectedVersion = null);

public sealed class UpdatePostValidator : AbstractValidator<UpdatePostRequest>
{
    public UpdatePostValidator()
    {
        RuleFor(r => r.Title).Must(t => !string.IsNullOrWhiteSpace(t)).WithMessage("Title must not be empty").MaximumLength(200).When(r => r.Title is not null);
        RuleFor(r => r.Content).Must(c => !string.IsNullOrWhiteSpace(c)).WithMessage("Content must not be empty").MaximumLength(50_000).When(r => r.Content is not null);
        RuleFor(r => r).Must(r => r.Title is not null || r.Content is not null).WithName("body").WithMessage("At least one of title, content is required");
    }
}

/// <summary>Only the author edits a post.</summary>
public sealed class UpdatePost(GroundworkDbContext db, TimeProvider clock, CacheWrites cache) : IOperation<UpdatePostRequest, PostDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.PostsWrite);

    public Execution Execution => Execution.Write;

    public async Task<Result<PostDto>> HandleAsync(UpdatePostRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var post = await db.Posts.FirstOrDefaultAsync(p => p.Id == request.Id, cancellationToken);
        if (post is null || !PostAccess.CanSee(caller, post))
        {
            return Error.NotFound("Post");
        }

        if (!caller.Is(post.AuthorId))
        {
            return Error.Forbidden("Only the author may edit a post");
        }

        if (request.ExpectedVersion is { } expected && expected != post.Version)
        {
            return Error.PreconditionFailed();
        }

        post.Title = request.Title?.Trim() ?? post.Title;
        post.Content = request.Content ?? post.Content;
        post.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        post.Version++;
        var updated = PostDto.From(post);
        cache.Put(PostCache.Kind, post.Id, updated);
        cache.ListChanged(PostCache.List);
        return updated;
    }
}
