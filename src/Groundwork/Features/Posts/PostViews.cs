namespace Groundwork.Features.Posts;

/// <summary>Post views, counted by every single-post read and written behind (<see cref="PostViewsWriter"/>).</summary>
public static class PostViews
{
    public const string Kind = "post-views";
}
