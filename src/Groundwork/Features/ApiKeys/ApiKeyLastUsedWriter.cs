using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.WriteBehind;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.ApiKeys;

/// <summary>Writes API keys' <c>lastUsedAt</c> from the write-behind buffer (one conditional UPDATE each).</summary>
public sealed class ApiKeyLastUsedWriter(GroundworkDbContext db) : ILastSeenWriter
{
    public string Kind => LastSeenKinds.ApiKey;

    public async Task WriteAsync(IReadOnlyCollection<(Guid Id, DateTime At)> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        // In id order: nodes flushing overlapping rows lock them in the same order, so they queue, never deadlock.
        foreach (var (id, at) in entries.OrderBy(e => e.Id))
        {
            await db.ApiKeys.Where(k => k.Id == id && (k.LastUsedAt == null || k.LastUsedAt < at))
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, at), cancellationToken);
        }
    }
}
