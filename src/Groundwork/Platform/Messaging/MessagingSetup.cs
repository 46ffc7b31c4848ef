using Groundwork.Platform.Configuration;
using Groundwork.Platform.Realtime;

namespace Groundwork.Platform.Messaging;

public static class MessagingSetup
{
    /// <summary>The outbox relay, the configured broker and this node's event fan-out.</summary>
    public static IServiceCollection AddGroundworkMessaging(this IServiceCollection services, GroundworkSettings settings, IHealthChecksBuilder health)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<EventHub>();
        services.AddSingleton<EventStream>();
        services.AddSingleton<StreamLimits>();
        if (settings.Broker == MessageBroker.RabbitMq)
        {
            services.AddSingleton<RabbitMqConnection>();
            services.AddSingleton<IEventBroker, RabbitMqBroker>();
            services.AddSingleton<RabbitMqFanOut>();
            services.AddHostedService(sp => sp.GetRequiredService<RabbitMqFanOut>());
            health.AddCheck<RabbitMqHealthCheck>("rabbitmq", tags: ["ready"]);
        }
        else
        {
            services.AddSingleton<IEventBroker, InProcessBroker>();
        }

        services.AddSingleton(sp =>
        {
            var relay = ActivatorUtilities.CreateInstance<OutboxRelay>(sp);
            relay.RegisterMetrics();
            return relay;
        });
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddHostedService<EventHubWatchdog>();
        services.AddSingleton<ConsumerRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<ConsumerRunner>());
        return services;
    }
}
