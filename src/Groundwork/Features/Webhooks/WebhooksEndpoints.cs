using Groundwork.Platform.Http;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.Webhooks;

public static class WebhooksEndpoints
{
    public static void MapWebhooks(this RouteGroupBuilder api)
    {
        var webhooks = api.MapGroup("/webhooks").WithTags("Webhooks").RequireAuthorization();

        webhooks.MapGet("/", (HttpContext http, [FromServices] ListWebhooks op) => Rest.RunAsync(http, op, new ListWebhooksRequest(), Rest.Data))
            .WithName("ListWebhooks").WithSummary("List webhooks (admins)")
            .Produces<DataEnvelope<IReadOnlyList<WebhookDto>>>().ProducesErrors(401, 403);

        webhooks.MapPost("/", (HttpContext http, [FromServices] CreateWebhook op, CreateWebhookRequest body) =>
                Rest.RunAsync(http, op, body, created => Rest.Created(http, $"/api/v1/webhooks/{created.Webhook.Id}", created)))
            .WithName("CreateWebhook").WithSummary("Register a webhook (admins); the answer shows its signing secret once")
            .Produces<CreatedEnvelope<WebhookWithSecretDto>>(StatusCodes.Status201Created).ProducesErrors(400, 401, 403, 409, 413, 415);

        webhooks.MapGet("/{id:guid}", (HttpContext http, [FromServices] GetWebhook op, Guid id) => Rest.RunAsync(http, op, new GetWebhookRequest(id), Rest.Data))
            .WithName("GetWebhook").WithSummary("Get a webhook (admins)")
            .Produces<DataEnvelope<WebhookDto>>().ProducesErrors(401, 403, 404);

        webhooks.MapPatch("/{id:guid}", (HttpContext http, [FromServices] UpdateWebhook op, Guid id, UpdateWebhookBody body) =>
                Rest.RunAsync(http, op, new UpdateWebhookRequest(id, body.Url, body.Events, body.Description, body.Active), Rest.Data))
            .WithName("UpdateWebhook").WithSummary("Change a webhook's URL, events, description or active flag (admins)")
            .Produces<DataEnvelope<WebhookDto>>().ProducesErrors(400, 401, 403, 404, 413, 415);

        webhooks.MapDelete("/{id:guid}", (HttpContext http, [FromServices] DeleteWebhook op, Guid id) => Rest.RunAsync(http, op, new DeleteWebhookRequest(id), Rest.NoContent))
            .WithName("DeleteWebhook").WithSummary("Delete a webhook and its delivery log (admins)")
            .Produces(StatusCodes.Status204NoContent).ProducesErrors(401, 403, 404);

        webhooks.MapPost("/{id:guid}/rotate-secret", (HttpContext http, [FromServices] RotateWebhookSecret op, Guid id) =>
                Rest.RunAsync(http, op, new RotateWebhookSecretRequest(id), Rest.Data))
            .WithName("RotateWebhookSecret").WithSummary("Make a new signing secret (shown once); the old one still signs for 24 h")
            .Produces<DataEnvelope<WebhookWithSecretDto>>().ProducesErrors(401, 403, 404);

        webhooks.MapGet("/{id:guid}/deliveries", (HttpContext http, [FromServices] ListWebhookDeliveries op, Guid id) =>
            {
                var query = QueryReader.ForCursor(http, "cursor");
                return Rest.RunAsync(http, query, op, new ListWebhookDeliveriesRequest(id, query.Int("limit") ?? 20, query.String("cursor")),
                    page => Rest.CursorPage(http, page));
            })
            .WithName("ListWebhookDeliveries").WithSummary("A webhook's deliveries with every attempt, newest first (admins)")
            .Produces<CursorEnvelope<WebhookDeliveryDto>>().ProducesErrors(400, 401, 403, 404);

        webhooks.MapPost("/{id:guid}/deliveries/{deliveryId:guid}/redeliver", (HttpContext http, [FromServices] RedeliverWebhook op, Guid id, Guid deliveryId) =>
                Rest.RunAsync(http, op, new RedeliverWebhookRequest(id, deliveryId), Rest.NoContent))
            .WithName("RedeliverWebhook").WithSummary("Send a delivery again now (admins)")
            .Produces(StatusCodes.Status204NoContent).ProducesErrors(401, 403, 404);
    }
}
