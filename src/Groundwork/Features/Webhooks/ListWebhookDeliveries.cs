using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

public sealed record ListWebhookDeliveriesRequest(Guid WebhookId, int Limit = 20, string? Cursor = null);

public sealed class ListWebhookDeliveriesValidator : AbstractValidator<ListWebhookDeliveriesRequest>
{
    public ListWebhookDeliveriesValidator()
    {
        RuleFor(r => r.Limit).InclusiveBetween(1, PageRequest.MaxLimit).WithMessage($"Must be between 1 and {PageRequest.MaxLimit}");
        RuleFor(r => r.Cursor).Must(c => c is null || KeysetCursor.TryDecodeId(c, out _)).WithMessage("Invalid cursor");
    }
}

/// <summary>A webhook's deliveries, newest first, each with every attempt (status code or error, duration).</summary>
public sealed class ListWebhookDeliveries(GroundworkDbContext db) : IOperation<ListWebhookDeliveriesRequest, CursorPage<WebhookDeliveryDto>>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    public async Task<Result<CursorPage<WebhookDeliveryDto>>> HandleAsync(ListWebhookDeliveriesRequest request, Caller caller, CancellationToken cancellationToken)
    {
        if (!await db.Webhooks.AnyAsync(w => w.Id == request.WebhookId, cancellationToken))
        {
            return Error.NotFound("Webhook");
        }

        var deliveries = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == request.WebhookId);
        if (request.Cursor is not null && KeysetCursor.TryDecodeId(request.Cursor, out var before))
        {
            deliveries = deliveries.Where(d => d.Id.CompareTo(before) < 0);
        }

        var rows = await deliveries.OrderByDescending(d => d.Id).Take(request.Limit + 1).ToListAsync(cancellationToken);
        var page = rows.Take(request.Limit).ToList();
        var ids = page.Select(d => d.Id).ToList();
        var attempts = (await db.WebhookAttempts.AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).ToListAsync(cancellationToken))
            .ToLookup(a => a.DeliveryId);
        var items = page.Select(d => new WebhookDeliveryDto(
            d.Id, d.WebhookId, d.EventId, d.EventType, d.Sequence, d.Status.ToString().ToLowerInvariant(), d.Attempts,
            d.Status == DeliveryStatus.Pending ? d.NextAttemptAt : null, d.LastStatusCode, d.LastError, d.CreatedAt, d.CompletedAt,
            attempts[d.Id].OrderBy(a => a.AttemptedAt).Select(a => new WebhookAttemptDto(a.AttemptedAt, a.StatusCode, a.Error, a.DurationMs)).ToList())).ToList();
        var hasMore = rows.Count > request.Limit;
        return new CursorPage<WebhookDeliveryDto>(items, request.Limit, hasMore, hasMore ? KeysetCursor.Encode(page[^1].Id) : null);
    }
}
