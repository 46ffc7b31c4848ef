namespace Groundwork.Platform.Messaging;

/// <summary>The embedded default: published events go straight to this node's subscribers.</summary>
public sealed class InProcessBroker(Realtime.EventHub hub) : IEventBroker
{
    public string Name => "inprocess";

    public Task PublishAsync(IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken)
    {
        hub.Publish(events);
        return Task.CompletedTask;
    }
}
