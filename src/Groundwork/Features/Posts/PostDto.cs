namespace Groundwork.Features.Posts;

public sealed record PostDto(
    Guid Id, Guid AuthorId, string Title, string Content, bool Published, DateTime? PublishedAt, DateTime CreatedAt, DateTime UpdatedAt)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int Version { get; init; }

    public static PostDto From(Post p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new(p.Id, p.AuthorId, p.Title, p.Content, p.Published, p.PublishedAt, p.CreatedAt, p.UpdatedAt) { Version = p.Version };
    }
}
