using Groundwork.Platform.Configuration;
using Groundwork.Platform.Hosting;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

/// <summary>Finished deliveries (and their attempt logs) are kept for <c>Groundwork:Webhooks:KeepDeliveriesFor</c> (30 days), then deleted.</summary>
public sealed class WebhookRetention(GroundworkDbContext db, GroundworkSettings settings) : IRetentionPolicy
{
    public string Name => "webhook deliveries";

    public async Task<int> PruneSliceAsync(DateTime now, CancellationToken cancellationToken)
    {
        var before = now - settings.Webhooks.DeliveryRetention;
        var slice = await db.WebhookDeliveries.Where(d => d.Status != DeliveryStatus.Pending && d.CompletedAt < before)
            .OrderBy(d => d.Id).Select(d => d.Id).Take(1_000).ToListAsync(cancellationToken);
        if (slice.Count == 0)
        {
            return 0;
        }

        await db.WebhookAttempts.Where(a => slice.Contains(a.DeliveryId)).ExecuteDeleteAsync(cancellationToken);
        return await db.WebhookDeliveries.Where(d => slice.Contains(d.Id)).ExecuteDeleteAsync(cancellationToken);
    }
}
