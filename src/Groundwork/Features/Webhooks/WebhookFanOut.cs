using Groundwork.Platform.Messaging;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

/// <summary>
/// The durable consumer that turns each event into one pending delivery per active webhook subscribed to its type
/// (webhooks see every event of their types: only admins register them). Runs in the consumer's transaction, so
/// each (webhook, event) delivery is created exactly once; <see cref="WebhookSender"/> sends them.
/// </summary>
public sealed class WebhookFanOut(GroundworkDbContext db, TimeProvider clock) : IEventConsumer
{
    private List<Webhook>? _webhooks;

    public string Name => "webhooks";

    public bool Wants(string eventType) => true;

    public async Task HandleAsync(EventEnvelope e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        // Once per pass (a scope): there are at most a hundred webhooks.
        _webhooks ??= await db.Webhooks.AsNoTracking().Where(w => w.Active).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var webhook in _webhooks.Where(w => w.CreatedAt <= e.OccurredAt && w.EventList.Contains(e.Type, StringComparer.Ordinal)))
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                WebhookId = webhook.Id,
                EventId = e.Id,
                EventType = e.Type,
                Sequence = e.Sequence,
                Payload = e.Json,
                Status = DeliveryStatus.Pending,
                NextAttemptAt = now,
                CreatedAt = now,
                RetryFrom = now,
            });
        }
    }
}
