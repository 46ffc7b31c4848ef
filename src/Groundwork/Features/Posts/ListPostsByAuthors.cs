using System.Linq.Expressions;
using FluentValidation;
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

/// <summary>The bound comes from the transport, not a client; checked all the same, as every request's fields are.</summary>
public sealed class ListPostsByAuthorsValidator : AbstractValidator<ListPostsByAuthorsRequest>
{
    public ListPostsByAuthorsValidator() => RuleFor(r => r.MaxContentChars).GreaterThanOrEqualTo(0);
}

/// <summary>
/// The posts of many authors at once (GraphQL's <c>User.posts</c> batch): those the caller may see, newest
/// first, at most <see cref="MaxPerAuthor"/> each, in one statement.
/// </summary>
public sealed class ListPostsByAuthors(GroundworkDbContext db, NewestPostsByAuthors newest) : IOperation<ListPostsByAuthorsRequest, IReadOnlyDictionary<Guid, IReadOnlyList<PostDto>>>
{
    public const int MaxPerAuthor = 100;

    public Policy Policy => Policy.AnonymousOrScoped(Scopes.PostsRead);

    public async Task<Result<IReadOnlyDictionary<Guid, IReadOnlyList<PostDto>>>> HandleAsync(
        ListPostsByAuthorsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var authors = request.AuthorIds;
        var newestPerAuthor = newest.Run(db, [.. authors], caller, request.WithContent);

        // One list per author asked for (empty when they have none), filled in one pass as the rows are read and
        // sorted in place: the database orders each author's posts inside its subquery, but not the whole result.
        var all = new Dictionary<Guid, IReadOnlyList<PostDto>>(authors.Count);
        foreach (var author in authors)
        {
            all[author] = new List<PostDto>();
        }

        long contentChars = 0;
        await foreach (var post in newestPerAuthor.WithCancellation(cancellationToken))
        {
            contentChars += post.Content.Length;
            if (contentChars > request.MaxContentChars)
            {
                return Error.Validation("query",
                    $"The posts asked for hold more content than the response may still carry ({request.MaxContentChars} characters); ask for fewer users or leave out content");
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

/// <summary>
/// <see cref="ListPostsByAuthors"/>' statement, compiled once per app. Uncompiled, EF rebuilds and re-evaluates the
/// statement's expression tree on every call. A singleton rather than a static: EF refuses to run a compiled query
/// against another model than the one it was compiled for, and the two providers' apps (in the tests) have two.
/// </summary>
public sealed class NewestPostsByAuthors
{
    private readonly Func<GroundworkDbContext, Guid[], bool, Guid?, IAsyncEnumerable<PostDto>> _withContent =
        Compile(p => new PostDto(p.Id, p.AuthorId, p.Title, p.Content, p.Published, p.PublishedAt, p.CreatedAt, p.UpdatedAt) { Version = p.Version });

    // The empty string is set on the client: the column is not in the statement.
    private readonly Func<GroundworkDbContext, Guid[], bool, Guid?, IAsyncEnumerable<PostDto>> _withoutContent =
        Compile(p => new PostDto(p.Id, p.AuthorId, p.Title, "", p.Published, p.PublishedAt, p.CreatedAt, p.UpdatedAt) { Version = p.Version });

    /// <summary>Each author's newest posts <paramref name="caller"/> may see, at most <see cref="ListPostsByAuthors.MaxPerAuthor"/> each.</summary>
    public IAsyncEnumerable<PostDto> Run(GroundworkDbContext db, Guid[] authors, Caller caller, bool withContent)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return (withContent ? _withContent : _withoutContent)(db, authors, caller.IsStaff, caller.UserId);
    }

    /// <summary>
    /// The statement with <paramref name="projection"/> as its columns. The visibility test is
    /// <see cref="PostAccess.Visible"/>'s with the caller as parameters (staff see drafts, a user their own), so one
    /// compiled statement serves every caller.
    /// </summary>
    private static Func<GroundworkDbContext, Guid[], bool, Guid?, IAsyncEnumerable<PostDto>> Compile(Expression<Func<Post, PostDto>> projection)
    {
        // Set<T>() rather than the feature modules' extension properties, which an expression tree cannot hold.
        Expression<Func<GroundworkDbContext, Guid[], bool, Guid?, IQueryable<Post>>> newest = (db, authors, seesDrafts, me) =>
            db.Set<User>().AsNoTracking().IgnoreQueryFilters()
                .Where(u => authors.Contains(u.Id))
                // The uncorrelated author filter lets the database narrow posts by index before ranking them; without
                // it, the per-author ROW_NUMBER() would rank every visible post in the table on every request.
                .SelectMany(u => db.Set<Post>().AsNoTracking()
                    .Where(p => authors.Contains(p.AuthorId) && (seesDrafts || p.Published || p.AuthorId == me))
                    .Where(p => p.AuthorId == u.Id)
                    .OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id)
                    .Take(ListPostsByAuthors.MaxPerAuthor));
        var projected = Expression.Call(typeof(Queryable), nameof(Queryable.Select), [typeof(Post), typeof(PostDto)], newest.Body, Expression.Quote(projection));
        return EF.CompileAsyncQuery(Expression.Lambda<Func<GroundworkDbContext, Guid[], bool, Guid?, IQueryable<PostDto>>>(projected, newest.Parameters));
    }
}
