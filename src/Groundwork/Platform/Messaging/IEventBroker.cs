namespace Groundwork.Platform.Messaging;

/// <summary>
/// Where the outbox relay hands committed events (<c>Groundwork:Messaging:Broker</c>): in process (one node, the
/// embedded default) or RabbitMQ. <see cref="PublishAsync"/> returns only once the broker has accepted every event
/// (publisher confirms), so the relay marks nothing published that could still be lost; a throw leaves them for
/// the next attempt. Events may be delivered more than once; consumers deduplicate by id or sequence.
/// </summary>
public interface IEventBroker
{
    string Name { get; }

    Task PublishAsync(IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken);
}
