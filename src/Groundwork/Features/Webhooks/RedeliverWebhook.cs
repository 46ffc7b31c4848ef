using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

public sealed record RedeliverWebhookRequest(Guid WebhookId, Guid DeliveryId);

/// <summary>Sends a delivery again now (a failed one gets a new retry window); its attempts so far stay in the log.</summary>
public sealed class RedeliverWebhook(GroundworkDbContext db, TimeProvider clock) : IOperation<RedeliverWebhookRequest, Unit>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    public Execution Execution => Execution.Write;

    public async Task<Result<Unit>> HandleAsync(RedeliverWebhookRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var delivery = await db.WebhookDeliveries.FirstOrDefaultAsync(d => d.Id == request.DeliveryId && d.WebhookId == request.WebhookId, cancellationToken);
        if (delivery is null)
        {
            return Error.NotFound("Delivery");
        }

        delivery.Status = DeliveryStatus.Pending;
        delivery.NextAttemptAt = clock.GetUtcNow().UtcDateTime;
        delivery.RetryFrom = delivery.NextAttemptAt;
        delivery.CompletedAt = null;
        return Unit.Value;
    }
}
