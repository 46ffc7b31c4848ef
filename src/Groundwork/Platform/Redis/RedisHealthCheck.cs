using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Groundwork.Platform.Redis;

/// <summary>
/// Reports Redis on <c>/health/ready</c>: healthy when it answers a PING, degraded (still ready, still 200) when it
/// does not, because the service keeps serving from its in-process fallbacks.
/// </summary>
public sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await (await redis.DatabaseAsync()).PingAsync();
            return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            return HealthCheckResult.Degraded("Redis is unreachable; serving with in-process rate limits");
        }
    }
}
