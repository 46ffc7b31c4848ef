using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

public sealed record CreateWebhookRequest(string? Url, IReadOnlyList<string>? Events, string? Description);

public sealed class CreateWebhookValidator : AbstractValidator<CreateWebhookRequest>
{
    public CreateWebhookValidator()
    {
        RuleFor(r => r.Url).ValidUrl();
        RuleFor(r => r.Events).ValidEvents();
        RuleFor(r => r.Description).MaximumLength(500);
    }
}

/// <summary>Registers a webhook; the answer carries its signing secret, the only time it is shown.</summary>
public sealed class CreateWebhook(GroundworkDbContext db, WebhookSecrets secrets, GroundworkSettings settings, TimeProvider clock)
    : IOperation<CreateWebhookRequest, WebhookWithSecretDto>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    /// <summary>No idempotency key: the answer holds a secret, which is never stored for a replay.</summary>
    public Execution Execution => Execution.Write;

    public async Task<Result<WebhookWithSecretDto>> HandleAsync(CreateWebhookRequest request, Caller caller, CancellationToken cancellationToken)
    {
        if (await WebhookTargets.ProblemAsync(request.Url!, settings.Webhooks.AllowPrivateTargets, cancellationToken) is { } problem)
        {
            return Error.Validation("url", problem);
        }

        if (await db.Webhooks.CountAsync(cancellationToken) >= WebhookRules.MaxWebhooks)
        {
            return Error.Conflict($"At most {WebhookRules.MaxWebhooks} webhooks may exist; delete one first");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var secret = WebhookSecrets.NewSecret();
        var webhook = new Webhook
        {
            Url = request.Url!,
            Events = WebhookRules.Join(request.Events!),
            Description = request.Description,
            ProtectedSecret = secrets.Protect(secret),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Webhooks.Add(webhook);
        return new WebhookWithSecretDto(WebhookDto.From(webhook), secret);
    }
}
