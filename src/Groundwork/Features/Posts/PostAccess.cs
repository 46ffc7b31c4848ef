using Groundwork.Platform.Operations;

namespace Groundwork.Features.Posts;

/// <summary>Who sees and touches which post. Drafts are visible to their author and to staff only.</summary>
public static class PostAccess
{
    public static bool CanSee(Caller caller, Post post)
    {
        ArgumentNullException.ThrowIfNull(post);
        return CanSee(caller, post.Published, post.AuthorId);
    }

    public static bool CanSee(Caller caller, PostDto post)
    {
        ArgumentNullException.ThrowIfNull(post);
        return CanSee(caller, post.Published, post.AuthorId);
    }

    private static bool CanSee(Caller caller, bool published, Guid authorId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return published || caller.Is(authorId) || caller.IsStaff;
    }

    /// <summary>Visibility as a query filter, so lists never carry what the caller may not see.</summary>
    public static IQueryable<Post> Visible(this IQueryable<Post> posts, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.IsStaff)
        {
            return posts;
        }

        var me = caller.UserId;
        return me is null ? posts.Where(p => p.Published) : posts.Where(p => p.Published || p.AuthorId == me);
    }

    /// <summary>The list filters every post list shares: published or not, one author.</summary>
    public static IQueryable<Post> Matching(this IQueryable<Post> posts, bool? published, Guid? authorId)
    {
        if (published is { } p)
        {
            posts = posts.Where(x => x.Published == p);
        }

        return authorId is { } author ? posts.Where(x => x.AuthorId == author) : posts;
    }
}
