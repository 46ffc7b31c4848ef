using System.Diagnostics;
using Groundwork.Platform.Configuration;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// What an operator sees (docs/operations.md):
/// <list type="bullet">
/// <item>Prometheus metrics at <c>/metrics</c> on a listener of their own (<c>Groundwork:Observability:MetricsUrl</c>,
/// off when empty), never on the API's port: request durations per route (ASP.NET Core), the database pool and
/// commands (Npgsql), runtime and GC, and the service's own meters (cache, outbox lag, webhook failures, failed
/// sign-ins, rate-limit refusals).</item>
/// <item>Traces, with the same metrics and the logs, over OTLP when <c>Groundwork:Observability:OtlpEndpoint</c> is
/// set: incoming HTTP/gRPC/GraphQL requests, each operation, PostgreSQL commands, Redis calls, outgoing HTTP
/// (webhooks), RabbitMQ publishes and the outbox relay's batches, all in one trace per request.</item>
/// </list>
/// Log lines carry the request's <c>traceId</c> either way (RequestContextMiddleware).
/// </summary>
public static class Observability
{
    /// <summary>The service's own meters.</summary>
    public static readonly string[] Meters = ["Groundwork.Auth", "Groundwork.Cache", "Groundwork.Messaging", "Groundwork.Money", "Groundwork.Webhooks", Operations.SecurityMetrics.MeterName];

    /// <summary>The service's own spans: one per operation, per outbox relay batch, per durable-consumer batch.</summary>
    public static readonly ActivitySource Source = new("Groundwork");

    public static void AddGroundworkObservability(this IServiceCollection services, GroundworkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MetricsUrl is not null || settings.OtlpEndpoint is not null)
        {
            AddTelemetry(services, settings);
        }
    }

    /// <summary>Apart, so a node without metrics or traces never even loads OpenTelemetry (the JIT compiles a method when it is first called).</summary>
    private static void AddTelemetry(IServiceCollection services, GroundworkSettings settings)
    {
        var telemetry = services.AddOpenTelemetry().ConfigureResource(r => r.AddService("groundwork"));
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(Meters);
            if (settings.MetricsUrl is not null)
            {
                // Every scrape sees now (the exporter's default caches a scrape for 300 ms).
                metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
            }

            if (settings.OtlpEndpoint is not null)
            {
                metrics.AddOtlpExporter(o => Otlp(o, settings, "v1/metrics"));
            }
        });

        if (settings.OtlpEndpoint is not null)
        {
            telemetry.WithTracing(tracing => ConfigureTracing(tracing, settings.TraceSampleRatio)
                .AddOtlpExporter(o => Otlp(o, settings, "v1/traces")));
            // Scopes carry requestId, traceId and userId (RequestContextMiddleware): the collector needs them as much as stdout does.
            telemetry.WithLogging(logging => logging.AddOtlpExporter(o => Otlp(o, settings, "v1/logs")), options => options.IncludeScopes = true);
        }
    }

    /// <summary>Which spans a trace holds; public so tests can attach an in-memory exporter to the same sources.</summary>
    public static TracerProviderBuilder ConfigureTracing(TracerProviderBuilder tracing, double sampleRatio)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        return tracing
            // A caller's traceparent is continued (its trace id), but its sampled flag is not obeyed: a client could
            // force every request of its own into the traces (or keep them all out). The ratio decides by trace id,
            // so services sampling at the same ratio keep or drop the same traces.
            .SetSampler(new ParentBasedSampler(
                new TraceIdRatioBasedSampler(sampleRatio),
                remoteParentSampled: new TraceIdRatioBasedSampler(sampleRatio),
                remoteParentNotSampled: new TraceIdRatioBasedSampler(sampleRatio),
                localParentSampled: new AlwaysOnSampler(),
                localParentNotSampled: new AlwaysOffSampler()))
            .AddSource(Source.Name)
            .AddAspNetCoreInstrumentation(o =>
            {
                // Probes and scrapes every few seconds would bury the traces that matter.
                o.Filter = context => !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/metrics");
                o.RecordException = false;
            })
            .AddHttpClientInstrumentation(o => o.RecordException = false)
            .AddNpgsql()
            .AddRedisInstrumentation()
            .ConfigureRedisInstrumentation((services, redis) =>
                services.GetService<Redis.RedisConnection>()?.WhenConnected(connection => redis.AddConnection(connection)))
            // RabbitMQ.Client 7 traces publishes and deliveries itself.
            .AddSource("RabbitMQ.Client.Publisher", "RabbitMQ.Client.Subscriber");
    }

    private static void Otlp(OtlpExporterOptions options, GroundworkSettings settings, string signalPath)
    {
        var endpoint = settings.OtlpEndpoint!;
        if (settings.OtlpProtocol == OtlpProtocol.HttpProtobuf)
        {
            options.Protocol = OtlpExportProtocol.HttpProtobuf;
            // Over HTTP each signal has its own path under the collector's base URL.
            options.Endpoint = new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/" + signalPath);
        }
        else
        {
            options.Protocol = OtlpExportProtocol.Grpc;
            options.Endpoint = endpoint;
        }
    }

    /// <summary>
    /// Serves <c>/metrics</c> on the metrics listener and refuses everything else there (it must not become a second
    /// door to the API). Decided by the port the connection arrived on, never by the Host header: a client could
    /// name the metrics port in Host on the API port (through a proxy that forwards Host, too).
    /// </summary>
    public static void UseMetricsListener(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.Services.GetRequiredService<GroundworkSettings>();
        if (settings.MetricsUrl is not { } url)
        {
            return;
        }

        UsePrometheus(app, BindingAddressPort(url));
    }

    // Apart, so a node without metrics never loads the exporter.
    private static void UsePrometheus(WebApplication app, int port)
    {
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Connection.LocalPort == port && context.Request.Path == "/metrics");
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort == port)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        });
    }

    private static int BindingAddressPort(string url) => Microsoft.AspNetCore.Http.BindingAddress.Parse(url).Port;
}
