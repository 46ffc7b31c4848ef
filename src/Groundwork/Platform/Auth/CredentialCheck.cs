using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Auth;

/// <summary>
/// Asks again whether a caller's credential still stands, for work that outlives one request (event streams):
/// the bearer token unexpired, the session still live (or the API key usable), and the user's role unchanged. A request is checked
/// once when it arrives; a stream is checked again on every heartbeat and ends when this says no.
/// </summary>
public sealed class CredentialCheck(SessionStatus sessions, IServiceScopeFactory scopes, TimeProvider clock)
{
    public async Task<bool> IsStillValidAsync(Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.CredentialExpiresAt is { } expires && expires <= clock.GetUtcNow())
        {
            return false;
        }

        if (caller.SessionId is { } sessionId)
        {
            return await sessions.GetActiveAsync(sessionId, cancellationToken) is { } session && session.Role == caller.Role;
        }

        if (caller.ApiKeyId is { } keyId)
        {
            await using var scope = scopes.CreateAsyncScope();
            var lookup = scope.ServiceProvider.GetRequiredService<IApiKeyLookup>();
            return await lookup.FindActiveByIdAsync(keyId, clock.GetUtcNow().UtcDateTime, cancellationToken) is { } key && key.Role == caller.Role;
        }

        return !caller.IsAuthenticated;
    }
}
