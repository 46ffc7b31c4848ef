using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

public sealed record UpdateWebhookBody(string? Url, IReadOnlyList<string>? Events, string? Description, bool? Active);

public sealed record UpdateWebhookRequest(Guid Id, string? Url, IReadOnlyList<string>? Events, string? Description, bool? Active);

public sealed class UpdateWebhookValidator : AbstractValidator<UpdateWebhookRequest>
{
    public UpdateWebhookValidator()
    {
        RuleFor(r => r.Url).ValidUrl().When(r => r.Url is not null);
        RuleFor(r => r.Events).ValidEvents().When(r => r.Events is not null);
        RuleFor(r => r.Description).MaximumLength(500);
    }
}

/// <summary>Changes a webhook's target, events, description or whether it is active (an inactive one gets no new deliveries).</summary>
public sealed class UpdateWebhook(GroundworkDbContext db, GroundworkSettings settings, TimeProvider clock) : IOperation<UpdateWebhookRequest, WebhookDto>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    public Execution Execution => Execution.Write;

    public async Task<Result<WebhookDto>> HandleAsync(UpdateWebhookRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var webhook = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == request.Id, cancellationToken);
        if (webhook is null)
        {
            return Error.NotFound("Webhook");
        }

        if (request.Url is { } url)
        {
            if (await WebhookTargets.ProblemAsync(url, settings.Webhooks.AllowPrivateTargets, cancellationToken) is { } problem)
            {
                return Error.Validation("url", problem);
            }

            webhook.Url = url;
        }

        if (request.Events is { } events)
        {
            webhook.Events = WebhookRules.Join(events);
        }

        webhook.Description = request.Description ?? webhook.Description;
        webhook.Active = request.Active ?? webhook.Active;
        webhook.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        return WebhookDto.From(webhook);
    }
}
