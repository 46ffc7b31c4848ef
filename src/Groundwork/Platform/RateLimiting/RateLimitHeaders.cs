using System.Globalization;

namespace Groundwork.Platform.RateLimiting;

/// <summary>IETF draft-ietf-httpapi-ratelimit-headers: <c>RateLimit-Policy</c> and <c>RateLimit</c>.</summary>
public static class RateLimitHeaders
{
    public static void Write(HttpResponse response, RateLimitDecision decision)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(decision);
        var window = (int)decision.Rule.Window.TotalSeconds;
        response.Headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"\"{decision.Policy}\";q={decision.Rule.Permits};w={window}");
        response.Headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture, $"\"{decision.Policy}\";r={decision.Remaining};t={decision.ResetSeconds}");
        if (!decision.Allowed)
        {
            response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }
    }
}
