using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.WriteBehind;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

/// <summary>Writes sessions' <c>lastSeenAt</c> from the write-behind buffer (one conditional UPDATE each).</summary>
public sealed class SessionLastSeenWriter(GroundworkDbContext db) : ILastSeenWriter
{
    public string Kind => LastSeenKinds.Session;

    public async Task WriteAsync(IReadOnlyCollection<(Guid Id, DateTime At)> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        // In id order: nodes flushing overlapping rows lock them in the same order, so they queue, never deadlock.
        foreach (var (id, at) in entries.OrderBy(e => e.Id))
        {
            await db.Sessions.Where(s => s.Id == id && s.LastSeenAt < at)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, at), cancellationToken);
        }
    }
}
