using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Features.Users;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

public sealed record ListPostsByAuthorsRequest(IReadOnlyCollection<Guid> AuthorIds);

/// <summary>
/// The posts of many authors at once (GraphQL's <c>User.posts</c> batch): those the caller may see, newest
/// first, at most <see cref="MaxPerAuthor"/> each, in one statement.
/// </summary>
public sealed class ListPostsByAuthors(GroundworkDbContext db) : IOperation<ListPostsByAuthorsRequest, IReadOnlyDictionary<Guid, IReadOnlyList<PostDto>>>
{
    public const int MaxPerAuthor = 100;

    public Policy Policy => Policy.AnonymousOrScoped(Scopes.PostsRead);

    public async Task<Result<IReadOnlyDictionary<Guid, IReadOnlyList<PostDto>>>> HandleAsync(
        ListPostsByAuthorsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var authors = request.AuthorIds;
        // The uncorrelated author filter lets the database narrow posts by index before ranking them; without
        // it, the per-author ROW_NUMBER() would rank every visible post in the table on every request.
        var visible = db.Posts.AsNoTracking().Visible(caller).Where(p => authors.Contains(p.AuthorId));
        var rows = await db.Users.AsNoTracking().IgnoreQueryFilters()
            .Where(u => authors.Contains(u.Id))
            .SelectMany(u => visible.Where(p => p.AuthorId == u.Id).OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id).Take(MaxPerAuthor))
            .Select(p => new PostDto(p.Id, p.AuthorId, p.Title, p.Content, p.Published, p.PublishedAt, p.CreatedAt, p.UpdatedAt) { Version = p.Version })
            .ToListAsync(cancellationToken);
        // One list per author asked for (empty when they have none), filled in one pass and sorted in place: the
        // database orders each author's posts inside its subquery, but not the rows of the whole result.
        var all = new Dictionary<Guid, IReadOnlyList<PostDto>>(authors.Count);
        foreach (var author in authors)
        {
            all[author] = new List<PostDto>();
        }

        foreach (var post in rows)
        {
            ((List<PostDto>)all[post.AuthorId]).Add(post);
        }

        foreach (var posts in all.Values)
        {
            ((List<PostDto>)posts).Sort(NewestFirst);
        }

        return Result<IReadOnlyDictionary<Guid, IReadOnlyList<PostDto>>>.Success(all);
    }

    private static int NewestFirst(PostDto a, PostDto b) =>
        b.CreatedAt.CompareTo(a.CreatedAt) is var byTime and not 0 ? byTime : b.Id.CompareTo(a.Id);
}
