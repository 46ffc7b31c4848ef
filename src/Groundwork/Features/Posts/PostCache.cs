using Groundwork.Platform.Caching;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

/// <summary>Posts in the entity cache (<c>gw:e:post:v1:{id}</c>), drafts included: visibility is checked after the read.</summary>
public static class PostCache
{
    /// <summary>The post lists, for cached totals.</summary>
    public const string List = "posts";

    public static readonly CacheKind<PostDto> Kind = new("post", 1, p => p.Version, (p, version) => p with { Version = (int)version });

    public static Task<PostDto?> GetPostAsync(this EntityCache cache, Guid id, CancellationToken cancellationToken) =>
        cache.GetAsync(Kind, id, LoadAsync, cancellationToken);

    private static async Task<PostDto?> LoadAsync(GroundworkDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Posts.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, cancellationToken) is { } post ? PostDto.From(post) : null;
}
