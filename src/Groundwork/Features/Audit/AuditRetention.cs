using Groundwork.Platform.Configuration;
using Groundwork.Platform.Hosting;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Audit;

/// <summary>Audit entries are kept for <c>Groundwork:Audit:Retention</c> (90 days), then deleted.</summary>
public sealed class AuditRetention(GroundworkDbContext db, GroundworkSettings settings) : IRetentionPolicy
{
    public string Name => "audit log";

    public async Task<int> PruneSliceAsync(DateTime now, CancellationToken cancellationToken)
    {
        var before = now - settings.AuditRetention;
        var slice = await db.AuditLog.Where(a => a.OccurredAt < before).OrderBy(a => a.Sequence).Select(a => a.Id).Take(5_000).ToListAsync(cancellationToken);
        return slice.Count == 0 ? 0 : await db.AuditLog.Where(a => slice.Contains(a.Id)).ExecuteDeleteAsync(cancellationToken);
    }
}
