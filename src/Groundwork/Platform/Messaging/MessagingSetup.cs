using Groundwork.Platform.Configuration;
using Groundwork.Platform.Realtime;

namespace Groundwork.Platform.Messaging;

public static class MessagingSetup
{
    /// <summary>The outbox relay, the configured broker and this node's event fan-out.</summary>
    public static IServiceCollection AddGroundworkMessaging(this IServiceCollection services, GroundworkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<EventHub>();
        services.AddSingleton<EventStream>();
        services.AddSingleton<StreamLimits>();
        services.AddSingleton<IEventBroker, InProcessBroker>();
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddHostedService<EventHubWatchdog>();
        return services;
    }
}
