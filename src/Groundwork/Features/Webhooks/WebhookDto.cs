namespace Groundwork.Features.Webhooks;

public sealed record WebhookDto(
    Guid Id, string Url, IReadOnlyList<string> Events, string? Description, bool Active, DateTime CreatedAt, DateTime UpdatedAt, DateTime? PreviousSecretExpiresAt)
{
    public static WebhookDto From(Webhook webhook)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        return new WebhookDto(webhook.Id, webhook.Url, webhook.EventList, webhook.Description, webhook.Active, webhook.CreatedAt, webhook.UpdatedAt, webhook.PreviousSecretExpiresAt);
    }
}

/// <summary>A webhook with its signing secret: answered once, when the secret is made (creation, rotation), never again.</summary>
public sealed record WebhookWithSecretDto(WebhookDto Webhook, string Secret);

public sealed record WebhookAttemptDto(DateTime AttemptedAt, int? StatusCode, string? Error, int DurationMs);

public sealed record WebhookDeliveryDto(
    Guid Id, Guid WebhookId, Guid EventId, string EventType, long Sequence, string Status, int Attempts, DateTime? NextAttemptAt,
    int? LastStatusCode, string? LastError, DateTime CreatedAt, DateTime? CompletedAt, IReadOnlyList<WebhookAttemptDto> AttemptLog);
