using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Authentication;

namespace Groundwork.Platform.Auth;

/// <summary>
/// Authenticates a credential that arrived outside the HTTP headers (a WebSocket's <c>connection_init</c> payload)
/// with exactly the handlers and checks HTTP requests get: the same bearer validation, session check and API-key
/// lookup, run on a stand-in request in a scope of its own (handlers cache their first answer per request).
/// </summary>
public static class CredentialAuthenticator
{
    public static async Task<Caller> AuthenticateAsync(HttpContext connection, string? authorization, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var scope = connection.RequestServices.CreateAsyncScope();
        var probe = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        probe.Connection.RemoteIpAddress = connection.Connection.RemoteIpAddress;
        probe.Request.Headers.UserAgent = connection.Request.Headers.UserAgent;
        if (!string.IsNullOrEmpty(authorization))
        {
            probe.Request.Headers.Authorization = authorization;
        }

        if (!string.IsNullOrEmpty(apiKey))
        {
            probe.Request.Headers[ApiKeyAuthenticationHandler.HeaderName] = apiKey;
        }

        var result = await probe.AuthenticateAsync();
        if (result.Succeeded)
        {
            probe.User = result.Principal;
        }

        return probe.ToCaller();
    }
}
