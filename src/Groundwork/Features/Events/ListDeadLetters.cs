using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Events;

public sealed record ListDeadLettersRequest;

public sealed record DeadLetterDto(Guid Id, string Consumer, Guid EventId, long Sequence, string EventType, string Error, int Attempts, DateTime CreatedAt);

/// <summary>Events a durable consumer gave up on (the newest 100), for admins to look into.</summary>
public sealed class ListDeadLetters(GroundworkDbContext db) : IOperation<ListDeadLettersRequest, IReadOnlyList<DeadLetterDto>>
{
    public Policy Policy => Policy.InRole(Scopes.WebhooksManage, Role.Admin);

    public async Task<Result<IReadOnlyList<DeadLetterDto>>> HandleAsync(ListDeadLettersRequest request, Caller caller, CancellationToken cancellationToken) =>
        await db.Set<DeadLetter>().AsNoTracking().OrderByDescending(d => d.CreatedAt).Take(100)
            .Select(d => new DeadLetterDto(d.Id, d.Consumer, d.EventId, d.Sequence, d.EventType, d.Error, d.Attempts, d.CreatedAt))
            .ToListAsync(cancellationToken);
}
