using Groundwork.Platform.Messaging;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.Audit;

/// <summary>
/// The durable consumer that keeps the audit log: every <c>auth.*</c> event becomes one <c>audit_log</c> row, in
/// the consumer's transaction (exactly once, however often the event is handed over).
/// </summary>
public sealed class AuditLogWriter(GroundworkDbContext db) : IEventConsumer
{
    public string Name => "audit-log";

    public bool Wants(string eventType) => eventType.StartsWith("auth.", StringComparison.Ordinal);

    public Task HandleAsync(EventEnvelope e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        db.AuditLog.Add(new AuditEntry { EventId = e.Id, Sequence = e.Sequence, Type = e.Type, Subject = e.Subject, OccurredAt = e.OccurredAt, Data = e.Data });
        return Task.CompletedTask;
    }
}
