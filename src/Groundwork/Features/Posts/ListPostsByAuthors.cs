using System.Linq.Expressions;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Features.Users;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

/// <summary>
/// The authors whose posts to load. <paramref name="WithContent"/> false leaves every post's
/// <see cref="PostDto.Content"/> empty, for a caller that will not read it (GraphQL's <c>User.posts</c> without
/// <c>content</c> in its selection): content is up to 50,000 characters a post, and a batch can hold thousands of posts.
/// </summary>
public sealed record ListPostsByAuthorsRequest(IReadOnlyCollection<Guid> AuthorIds, bool WithContent = true)
{
    /// <summary>
    /// The most characters of content the batch may hold; past it the batch is refused as it is read, so a caller with
    /// a response budget never holds in memory the content of posts it could not send.
    /// </summary>
    public long MaxContentChars { get; init; } = long.MaxValue;
}

/// <summary>
/// The posts of many authors at once (GraphQL's <c>User.posts</c> batch): those the caller may see, newest
/// first, at most <see cref="MaxPerAuthor"/> each, in one statement.
/// </summary>
public sealed class ListPostsByAuthors(GroundworkDbContext db) : IOperation<ListPostsByAuthorsRequest, IReadOnlyDictionary<Guid, IReadOnlyList<PostDto>>>
{
    public const int MaxPerAuthor = 100;

    public Policy Policy => Policy.AnonymousOrScoped(Scopes.PostsRead);

    private static readonly Expression<Func<Post, PostDto>> WithContent = p =>
        new PostDto(p.Id, p.AuthorId, p.Title, p.Content, p.Published, p.PublishedAt, p.CreatedAt, p.UpdatedAt) { Version = p.Version };

    // The empty string is set on the client: the column is not in the statement.
    private static readonly Expression<Func<Post, PostDto>> WithoutContent = p =>
        new PostDto(p.Id, p.AuthorId, p.Title, "", p.Published, p.PublishedAt, p.CreatedAt, p.UpdatedAt) { Version = p.Version };

    public async Task<Result<IReadOnlyDictionary<Guid, IReadOnlyList<PostDto>>>> HandleAsync(
        ListPostsByAuthorsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var authors = request.AuthorIds;
        // The uncorrelated author filter lets the database narrow posts by index before ranking them; without
        // it, the per-author ROW_NUMBER() would rank every visible post in the table on every request.
        var visible = db.Posts.AsNoTracking().Visible(caller).Where(p => authors.Contains(p.AuthorId));
        var newestPerAuthor = db.Users.AsNoTracking().IgnoreQueryFilters()
            .Where(u => authors.Contains(u.Id))
            .SelectMany(u => visible.Where(p => p.AuthorId == u.Id).OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id).Take(MaxPerAuthor))
            .Select(request.WithContent ? WithContent : WithoutContent);

        // One list per author asked for (empty when they have none), filled in one pass as the rows are read and
        // sorted in place: the database orders each author's posts inside its subquery, but not the whole result.
        var all = new Dictionary<Guid, IReadOnlyList<PostDto>>(authors.Count);
        foreach (var author in authors)
        {
            all[author] = new List<PostDto>();
        }

        long contentChars = 0;
        await foreach (var post in newestPerAuthor.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            contentChars += post.Content.Length;
            if (contentChars > request.MaxContentChars)
            {
                return Error.Validation("query",
                    $"The posts asked for hold more than {request.MaxContentChars} characters of content; ask for fewer users or leave out content");
            }

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
