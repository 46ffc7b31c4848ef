using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

public sealed record ListWebhooksRequest;

public sealed record GetWebhookRequest(Guid Id);

/// <summary>Every webhook, newest first (there are at most <see cref="WebhookRules.MaxWebhooks"/>).</summary>
public sealed class ListWebhooks(GroundworkDbContext db) : IOperation<ListWebhooksRequest, IReadOnlyList<WebhookDto>>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    public async Task<Result<IReadOnlyList<WebhookDto>>> HandleAsync(ListWebhooksRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var webhooks = await db.Webhooks.AsNoTracking().OrderByDescending(w => w.CreatedAt).Take(WebhookRules.MaxWebhooks).ToListAsync(cancellationToken);
        return webhooks.Select(WebhookDto.From).ToList();
    }
}

public sealed class GetWebhook(GroundworkDbContext db) : IOperation<GetWebhookRequest, WebhookDto>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    public async Task<Result<WebhookDto>> HandleAsync(GetWebhookRequest request, Caller caller, CancellationToken cancellationToken) =>
        await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == request.Id, cancellationToken) is { } webhook
            ? WebhookDto.From(webhook)
            : Error.NotFound("Webhook");
}
