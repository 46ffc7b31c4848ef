using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

public sealed record DeleteWebhookRequest(Guid Id);

/// <summary>Deletes a webhook with its deliveries and their log; nothing more is sent to it.</summary>
public sealed class DeleteWebhook(GroundworkDbContext db) : IOperation<DeleteWebhookRequest, Unit>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    public Execution Execution => Execution.Write;

    public async Task<Result<Unit>> HandleAsync(DeleteWebhookRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var webhook = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == request.Id, cancellationToken);
        if (webhook is null)
        {
            return Error.NotFound("Webhook");
        }

        db.Webhooks.Remove(webhook);
        return Unit.Value;
    }
}
