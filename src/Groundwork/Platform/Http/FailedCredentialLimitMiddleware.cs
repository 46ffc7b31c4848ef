using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.RateLimiting;

namespace Groundwork.Platform.Http;

/// <summary>
/// Requests that carry a credential which fails (forged, expired or revoked token, unknown API key) count against
/// their IP on every path, REST, GraphQL and gRPC alike. Once the IP has used up
/// <c>Groundwork:RateLimits:FailedCredentialsPerIp</c>, its requests with credentials are refused here, before
/// signature checks, key-folder rescans or API-key lookups run again. Runs before authentication: it peeks
/// first, and counts a failure after the request is done. A bearer token this node has already validated skips
/// the peek (no expensive work is left to refuse), which keeps the hot path at one rate-limit call.
/// </summary>
public sealed class FailedCredentialLimitMiddleware(RequestDelegate next, RateLimiter limiter, GroundworkSettings settings, Auth.CachedTokenHandler tokens)
{
    /// <summary>The limit's name; the GraphQL WebSocket counts credentials sent in <c>connection_init</c> against it too.</summary>
    public const string Policy = "failed-credentials";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Headers.ContainsKey("Authorization") && !context.Request.Headers.ContainsKey("X-API-Key"))
        {
            await next(context);
            return;
        }

        var ip = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var rule = settings.RateLimits.FailedCredentialsPerIp;
        if (!IsKnownValidBearer(context))
        {
            var peek = await limiter.PeekAsync(Policy, ip, rule);
            if (!peek.Allowed)
            {
                await TransportErrors.WriteAsync(context, Error.RateLimited(peek));
                return;
            }
        }

        await next(context);
        if (context.User.Identity?.IsAuthenticated != true)
        {
            await limiter.RecordAsync(Policy, ip, rule);
        }
    }

    private bool IsKnownValidBearer(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return !context.Request.Headers.ContainsKey("X-API-Key")
            && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && tokens.IsKnownValid(header.AsSpan("Bearer ".Length).Trim());
    }
}
