using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

public sealed record RotateWebhookSecretRequest(Guid Id);

/// <summary>
/// Makes a new signing secret (answered once). For <c>Groundwork:Webhooks:SecretGrace</c> (24 h) deliveries carry a
/// signature with each secret, so a receiver still verifying with the old one keeps working while it switches.
/// </summary>
public sealed class RotateWebhookSecret(GroundworkDbContext db, WebhookSecrets secrets, GroundworkSettings settings, TimeProvider clock)
    : IOperation<RotateWebhookSecretRequest, WebhookWithSecretDto>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    public Execution Execution => Execution.Write;

    public async Task<Result<WebhookWithSecretDto>> HandleAsync(RotateWebhookSecretRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var webhook = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == request.Id, cancellationToken);
        if (webhook is null)
        {
            return Error.NotFound("Webhook");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        if (webhook.PreviousSecretExpiresAt > now)
        {
            // A second rotation now would drop the secret receivers may still verify with, before its grace ends.
            return Error.Conflict($"The last rotation's grace period runs until {webhook.PreviousSecretExpiresAt:O}; rotate again after it");
        }

        var secret = WebhookSecrets.NewSecret();
        webhook.ProtectedPreviousSecret = webhook.ProtectedSecret;
        webhook.PreviousSecretExpiresAt = now + settings.Webhooks.PreviousSecretGrace;
        webhook.ProtectedSecret = secrets.Protect(secret);
        webhook.UpdatedAt = now;
        return new WebhookWithSecretDto(WebhookDto.From(webhook), secret);
    }
}
