using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.RateLimiting;

namespace Groundwork.Platform.Http;

/// <summary>
/// The default limit (docs/api/limits.md: 600/min per principal) on every request but health probes: REST,
/// GraphQL, gRPC (before its message is even read, so malformed messages are limited too), the documents and
/// the docs. One bucket per principal whatever the transport.
/// </summary>
public sealed class DefaultRateLimitMiddleware(RequestDelegate next, RateLimiter limiter, GroundworkSettings settings)
{
    public async Task InvokeAsync(HttpContext context)
    {
        // Health probes, and the benchmark's baselines when the benchmark is on and the caller is on loopback (the
        // only callers they answer): a baseline must be the cheapest way to do its work.
        if (context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
            || (settings.BenchEndpoints && context.Request.Path.StartsWithSegments("/bench", StringComparison.OrdinalIgnoreCase)
                && context.Connection.RemoteIpAddress is { } ip && System.Net.IPAddress.IsLoopback(ip)))
        {
            await next(context);
            return;
        }

        var decision = await limiter.TryAcquireAsync("default", context.ToCaller().PrincipalKey, settings.RateLimits.Default);
        if (!decision.Allowed)
        {
            await TransportErrors.WriteAsync(context, Error.RateLimited(decision));
            return;
        }

        context.Response.OnStarting(() =>
        {
            // An operation-level limit (login, register) that refused the call has already written its own.
            if (!context.Response.Headers.ContainsKey("RateLimit"))
            {
                RateLimitHeaders.Write(context.Response, decision);
            }

            return Task.CompletedTask;
        });
        await next(context);
    }
}
