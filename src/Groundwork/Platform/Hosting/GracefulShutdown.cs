using Groundwork.Platform.Configuration;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// What SIGTERM does, in order (docs/operations.md):
/// <list type="number">
/// <item>event streams end (they watch the host's stopping token, which SIGTERM fires) and <c>/health/ready</c> starts failing
/// (<see cref="ShutdownReadiness"/>), while the node keeps serving for <c>Groundwork:Shutdown:Drain</c>, so a
/// load balancer takes it out of rotation before it stops listening;</item>
/// <item>Kestrel stops accepting and lets in-flight requests finish;</item>
/// <item>the background services stop: the write-behind buffers are flushed and the outbox relay publishes what is
/// left;</item>
/// </list>
/// all within <c>Groundwork:Shutdown:Timeout</c> (the host's shutdown timeout), after which the host gives up waiting.
/// </summary>
public sealed class GracefulShutdown(GroundworkSettings settings, IHostApplicationLifetime lifetime, ILogger<GracefulShutdown> logger) : IHostedLifecycleService
{
    /// <summary>Where load balancers ask whether to send this node traffic.</summary>
    public const string ReadinessPath = "/health/ready";

    private volatile bool _stopping;

    /// <summary>
    /// True from the first step of stopping. SIGTERM fires the host's stopping token before <see cref="StoppingAsync"/>;
    /// a stop asked in code (<c>IHost.StopAsync</c>) reaches <see cref="StoppingAsync"/> first, so both count.
    /// </summary>
    public bool Stopping => _stopping || lifetime.ApplicationStopping.IsCancellationRequested;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        // A node that never finished starting (a port in use) was never in a load balancer's rotation: nothing to drain.
        if (settings.ShutdownDrain <= TimeSpan.Zero || !lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return;
        }

        logger.LogInformation("Stopping: not ready any more; serving for {Drain} more before closing the listeners", settings.ShutdownDrain);
        try
        {
            await Task.Delay(settings.ShutdownDrain, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The shutdown timeout ran out during the drain: carry on stopping.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Readiness fails as soon as the node starts stopping, so no new traffic is routed to it.</summary>
public static class ShutdownReadiness
{
    /// <summary>
    /// Answers <c>/health/ready</c> with 503 from the first step of stopping, before the health checks run: a
    /// probe every few seconds during the drain is expected, not an error to log.
    /// </summary>
    public static void UseShutdownReadiness(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var shutdown = app.Services.GetRequiredService<GracefulShutdown>();
        app.Use(async (context, next) =>
        {
            if (shutdown.Stopping && context.Request.Path == GracefulShutdown.ReadinessPath)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("Unhealthy: shutting down");
                return;
            }

            await next(context);
        });
    }
}
