using System.Buffers.Text;
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
        RuleFor(r => r.Cursor).Must(c => c is null || DeliveryCursor.TryDecode(c, out _)).WithMessage("Invalid cursor");
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
        if (request.Cursor is not null && DeliveryCursor.TryDecode(request.Cursor, out var before))
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
        return new CursorPage<WebhookDeliveryDto>(items, request.Limit, hasMore, hasMore ? DeliveryCursor.Encode(page[^1].Id) : null);
    }
}

/// <summary>Opaque cursor: the last delivery id seen (ids are time-ordered UUIDv7).</summary>
public static class DeliveryCursor
{
    public static string Encode(Guid id) => Base64Url.EncodeToString(id.ToByteArray());

    public static bool TryDecode(string cursor, out Guid id)
    {
        id = Guid.Empty;
        if (cursor is not { Length: > 0 and <= 64 })
        {
            return false;
        }

        var bytes = new byte[16];
        if (!Base64Url.TryDecodeFromChars(cursor, bytes, out var written) || written != 16)
        {
            return false;
        }

        id = new Guid(bytes);
        return true;
    }
}
