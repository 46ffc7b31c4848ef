using Groundwork.Platform.Auth;

namespace Groundwork.Platform.Operations;

/// <summary>
/// What an operation requires of its caller before anything else runs: authentication, a role, a scope.
/// Ownership (who may touch which object) is decided in the handler, which knows the object.
/// </summary>
public sealed record Policy
{
    private Policy(bool requiresAuthentication, IReadOnlySet<Role>? roles, string? scope, bool requiresSession = false, bool signIn = false)
    {
        RequiresAuthentication = requiresAuthentication;
        Roles = roles;
        Scope = scope;
        RequiresSession = requiresSession;
        IgnoresRejectedCredential = signIn;
    }

    public bool RequiresAuthentication { get; }
    public IReadOnlySet<Role>? Roles { get; }
    public string? Scope { get; }

    /// <summary>Only a signed-in session may call: API keys, whatever their scopes, are refused.</summary>
    public bool RequiresSession { get; }

    /// <summary>
    /// Sign-in operations (login, refresh, register) ignore a broken credential a client still sends, so a stale
    /// token never keeps anyone from signing in again; every other policy refuses it.
    /// </summary>
    public bool IgnoresRejectedCredential { get; }

    /// <summary>Anyone, signed in or not.</summary>
    public static Policy Anonymous { get; } = new(false, null, null, signIn: true);

    /// <summary>Any signed-in caller whose credential carries <paramref name="scope"/>.</summary>
    public static Policy Authenticated(string? scope = null) => new(true, null, scope);

    /// <summary>Signed-in callers with one of <paramref name="roles"/> and the scope.</summary>
    public static Policy InRole(string? scope, params Role[] roles) => new(true, roles.ToHashSet(), scope);

    /// <summary>
    /// Account management (sessions, API keys): a session only. No API-key scope grants it, so a leaked key can
    /// neither see the owner's sessions nor mint or list keys.
    /// </summary>
    public static Policy SessionOnly { get; } = new(true, null, null, requiresSession: true);

    /// <summary>Anyone, but when signed in with an API key the key must carry the scope.</summary>
    public static Policy AnonymousOrScoped(string scope) => new(false, null, scope);

    public Error? Check(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        // A broken credential is refused, not downgraded to anonymous.
        if (caller.CredentialRejected && !IgnoresRejectedCredential)
        {
            return Error.Unauthenticated("The credential is invalid or expired");
        }

        if (!caller.IsAuthenticated)
        {
            return RequiresAuthentication ? Error.Unauthenticated() : null;
        }

        if (RequiresSession && caller.SessionId is null)
        {
            return Error.Forbidden("API keys cannot manage sessions or API keys; sign in with a session");
        }

        if (Scope is not null && !caller.HasScope(Scope))
        {
            return Error.Forbidden($"The credential lacks the '{Scope}' scope");
        }

        if (Roles is not null && !Roles.Contains(caller.Role))
        {
            return Error.Forbidden();
        }

        return null;
    }
}
