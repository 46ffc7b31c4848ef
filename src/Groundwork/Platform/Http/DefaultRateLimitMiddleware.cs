using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.RateLimiting;

namespace Groundwork.Platform.Http;

/// <summary>
/// The default limit (docs/api/limits.md: 600/min per principal) on every <c>/api/v1</c> route and on <c>/graphql</c>
/// (gRPC calls meet the same limit in <c>GrpcServerInterceptor</c>).
/// </summary>
public sealed class DefaultRateLimitMiddleware(RequestDelegate next, RateLimiter limiter, GroundworkSettings settings)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var graphQL = context.Request.Path.StartsWithSegments(GraphQLServer.GraphQLEndpoint.Path, StringComparison.OrdinalIgnoreCase);
        if (!graphQL && !context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        var decision = limiter.TryAcquire("default", context.ToCaller().PrincipalKey, settings.RateLimits.Default);
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
