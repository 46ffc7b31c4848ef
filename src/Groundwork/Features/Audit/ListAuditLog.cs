using System.Text.Json;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Audit;

public sealed record ListAuditLogRequest(int Limit = 20, string? Cursor = null, string? Type = null);

public sealed record AuditEntryDto(Guid Id, Guid EventId, long Sequence, string Type, Guid Subject, DateTime OccurredAt, JsonElement Data);

public sealed class ListAuditLogValidator : AbstractValidator<ListAuditLogRequest>
{
    public ListAuditLogValidator()
    {
        RuleFor(r => r.Limit).InclusiveBetween(1, PageRequest.MaxLimit).WithMessage($"Must be between 1 and {PageRequest.MaxLimit}");
        RuleFor(r => r.Cursor).Must(c => c is null || KeysetCursor.TryDecode(c, out _)).WithMessage("Invalid cursor");
        RuleFor(r => r.Type).Must(t => t is null || (t.StartsWith("auth.", StringComparison.Ordinal) && Events.EventCatalogue.ScopeByType.ContainsKey(t)))
            .WithMessage("Must be one of " + string.Join(", ", Events.EventCatalogue.ScopeByType.Keys.Where(k => k.StartsWith("auth.", StringComparison.Ordinal))));
    }
}

/// <summary>The audit log, newest first (keyset by sequence), optionally one type: admins only.</summary>
public sealed class ListAuditLog(GroundworkDbContext db) : IOperation<ListAuditLogRequest, CursorPage<AuditEntryDto>>
{
    public Policy Policy => Policy.InRole(Scopes.UsersRead, Role.Admin);

    public async Task<Result<CursorPage<AuditEntryDto>>> HandleAsync(ListAuditLogRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var entries = db.AuditLog.AsNoTracking();
        if (request.Type is { } type)
        {
            entries = entries.Where(a => a.Type == type);
        }

        if (request.Cursor is not null && KeysetCursor.TryDecode(request.Cursor, out var before))
        {
            entries = entries.Where(a => a.Sequence < before);
        }

        var rows = await entries.OrderByDescending(a => a.Sequence).Take(request.Limit + 1).ToListAsync(cancellationToken);
        var page = rows.Take(request.Limit).ToList();
        var items = page.Select(a =>
        {
            using var data = JsonDocument.Parse(a.Data);
            return new AuditEntryDto(a.Id, a.EventId, a.Sequence, a.Type, a.Subject, a.OccurredAt, data.RootElement.Clone());
        }).ToList();
        var hasMore = rows.Count > request.Limit;
        return new CursorPage<AuditEntryDto>(items, request.Limit, hasMore, hasMore ? KeysetCursor.Encode(page[^1].Sequence) : null);
    }
}
