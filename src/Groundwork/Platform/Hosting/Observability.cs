using Groundwork.Platform.Configuration;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// Prometheus metrics at <c>/metrics</c> on a listener of their own (<c>Groundwork:Observability:MetricsUrl</c>,
/// off when empty), never on the API's port: request durations per route (ASP.NET Core), the database pool and
/// commands (Npgsql), runtime and GC, and the service's own meters (cache hits, outbox lag, webhook failures).
/// </summary>
public static class Observability
{
    /// <summary>The service's own meters.</summary>
    public static readonly string[] Meters = ["Groundwork.Cache", "Groundwork.Messaging", "Groundwork.Webhooks"];

    public static void AddGroundworkObservability(this IServiceCollection services, GroundworkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MetricsUrl is not null)
        {
            AddMetrics(services);
        }
    }

    /// <summary>Apart, so a node without metrics never even loads OpenTelemetry (the JIT compiles a method when it is first called).</summary>
    private static void AddMetrics(IServiceCollection services)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("groundwork"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(Meters)
                // Every scrape sees now (the exporter's default caches a scrape for 300 ms).
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
    }

    public static void MapGroundworkMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.Services.GetRequiredService<GroundworkSettings>();
        if (settings.MetricsUrl is not { } url)
        {
            return;
        }

        MapMetrics(app, BindingAddressPort(url));
    }

    // Only on the metrics listener; and that listener serves nothing else (UseMetricsPortIsolation).
    private static void MapMetrics(WebApplication app, int port) =>
        app.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{port}").AllowAnonymous().ExcludeFromDescription();

    /// <summary>Refuses everything but <c>/metrics</c> on the metrics port (it must not become a second door to the API).</summary>
    public static void UseMetricsPortIsolation(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.Services.GetRequiredService<GroundworkSettings>();
        if (settings.MetricsUrl is not { } url)
        {
            return;
        }

        var port = BindingAddressPort(url);
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort == port && !context.Request.Path.StartsWithSegments("/metrics"))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        });
    }

    private static int BindingAddressPort(string url) => Microsoft.AspNetCore.Http.BindingAddress.Parse(url).Port;
}
