using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

public sealed record ListPostsRequest(PageRequest Page, bool? Published = null, Guid? AuthorId = null, string? Q = null);

public sealed class ListPostsValidator : AbstractValidator<ListPostsRequest>
{
    public ListPostsValidator()
    {
        RuleFor(r => r.Page).ValidPage(ListPosts.SortFields);
        RuleFor(r => r.Q).MaximumLength(100).WithName("q");
    }
}

/// <summary>Posts the caller may see: published ones, plus own drafts, plus everything for staff.</summary>
public sealed class ListPosts(GroundworkDbContext db, EntityCache cache) : IOperation<ListPostsRequest, PagedList<PostDto>>
{
    public static readonly IReadOnlyList<string> SortFields = ["createdAt", "publishedAt", "title"];

    public Policy Policy => Policy.AnonymousOrScoped(Scopes.PostsRead);

    public async Task<Result<PagedList<PostDto>>> HandleAsync(ListPostsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var query = db.Posts.AsNoTracking().Visible(caller).Matching(request.Published, request.AuthorId);

        if (!string.IsNullOrWhiteSpace(request.Q))
        {
            var (q, ascii) = SearchText.Forms(request.Q);
            query = q == ascii
                ? query.Where(p => p.Title.ToLower().Contains(q) || p.Content.ToLower().Contains(q))
                : query.Where(p => p.Title.ToLower().Contains(q) || p.Content.ToLower().Contains(q) || p.Title.ToLower().Contains(ascii) || p.Content.ToLower().Contains(ascii));
        }

        var page = request.Page;
        var desc = page.Order == SortOrder.Desc;
        query = PageRules.CanonicalSort(page.Sort, SortFields) switch
        {
            "title" => desc ? query.OrderByDescending(p => p.Title.ToLower()).ThenByDescending(p => p.Id) : query.OrderBy(p => p.Title.ToLower()).ThenBy(p => p.Id),
            "publishedAt" => desc ? query.OrderByDescending(p => p.PublishedAt).ThenByDescending(p => p.Id) : query.OrderBy(p => p.PublishedAt).ThenBy(p => p.Id),
            _ => desc ? query.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id) : query.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id),
        };
        // Totals depend on what the caller may see: staff everything, others published posts and their own.
        var visibility = caller.IsStaff ? "all" : caller.UserId is { } me ? $"public+{me:N}" : "public";
        // Free-text searches are counted every time: caching one total per search text would let anyone fill the cache.
        var filter = string.Join('|', visibility, request.Published, request.AuthorId);
        var total = string.IsNullOrWhiteSpace(request.Q)
            ? await query.TotalAsync(page, cache, PostCache.List, filter, cancellationToken)
            : await query.TotalAsync(page, cancellationToken);
        var items = await query.Skip(page.Skip).Take(page.Limit)
            .Select(p => new PostDto(p.Id, p.AuthorId, p.Title, p.Content, p.Published, p.PublishedAt, p.CreatedAt, p.UpdatedAt) { Version = p.Version })
            .ToListAsync(cancellationToken);
        return new PagedList<PostDto>(items, page.Page, page.Limit, total);
    }
}
