using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Groundwork.Platform.Messaging;

/// <summary>Reports RabbitMQ on <c>/health/ready</c>: degraded (still ready) while it is unreachable, since requests are served and events wait.</summary>
public sealed class RabbitMqHealthCheck(RabbitMqConnection rabbit) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await rabbit.OpenAsync(timeout.Token);
            return HealthCheckResult.Healthy("connected");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return HealthCheckResult.Degraded("RabbitMQ is unreachable; events wait in the outbox until it is back");
        }
    }
}
