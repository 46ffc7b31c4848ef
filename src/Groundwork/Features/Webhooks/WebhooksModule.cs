using Groundwork.Platform.Configuration;
using Groundwork.Platform.Hosting;
using Groundwork.Platform.Messaging;

namespace Groundwork.Features.Webhooks;

public sealed class WebhooksModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton<WebhookSecrets>();
        services.AddScoped<IEventConsumer, WebhookFanOut>();
        services.AddScoped<IRetentionPolicy, WebhookRetention>();
        services.AddHostedService<WebhookSender>();
        services.AddHttpClient(WebhookSender.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // The SSRF guard decides at every connection, against what DNS answers then; no redirects, no proxy.
                ConnectCallback = WebhookTargets.Connect(sp.GetRequiredService<GroundworkSettings>().Webhooks.AllowPrivateTargets),
                AllowAutoRedirect = false,
                UseProxy = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan);
    }

    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => api.MapWebhooks();
}
