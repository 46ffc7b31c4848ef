using Groundwork.Platform.Persistence;
using Groundwork.Platform.WriteBehind;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

/// <summary>Adds buffered views to <c>posts.view_count</c> (one UPDATE per post per flush).</summary>
public sealed class PostViewsWriter(GroundworkDbContext db) : ICounterWriter
{
    public string Kind => PostViews.Kind;

    public async Task WriteAsync(IReadOnlyCollection<(Guid Id, long Delta)> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        // In id order: nodes flushing the same hot posts lock them in the same order, so they queue, never deadlock.
        foreach (var (id, delta) in entries.OrderBy(e => e.Id))
        {
            await db.Posts.Where(p => p.Id == id).ExecuteUpdateAsync(s => s.SetProperty(p => p.ViewCount, p => p.ViewCount + delta), cancellationToken);
        }
    }
}
