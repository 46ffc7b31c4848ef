using Groundwork.Platform.Auth;

namespace Groundwork.Platform.Operations;

/// <summary>
/// What an operation requires of its caller before anything else runs: authentication, a role, a scope.
/// Ownership (who may touch which object) is decided in the handler, which knows the object.
/// </summary>
public sealed record Policy
{
    private Policy(bool requiresAuthentication, IReadOnlySet<Role>? roles, string? scope)
    {
        RequiresAuthentication = requiresAuthentication;
        Roles = roles;
        Scope = scope;
    }

    public bool RequiresAuthentication { get; }
    public IReadOnlySet<Role>? Roles { get; }
    public string? Scope { get; }

    /// <summary>Anyone, signed in or not.</summary>
    public static Policy Anonymous { get; } = new(false, null, null);

    /// <summary>Any signed-in caller whose credential carries <paramref name="scope"/>.</summary>
    public static Policy Authenticated(string? scope = null) => new(true, null, scope);

    /// <summary>Signed-in callers with one of <paramref name="roles"/> and the scope.</summary>
    public static Policy InRole(string? scope, params Role[] roles) => new(true, roles.ToHashSet(), scope);

    /// <summary>Anyone, but when signed in with an API key the key must carry the scope.</summary>
    public static Policy AnonymousOrScoped(string scope) => new(false, null, scope);

    public Error? Check(Caller caller)
    {
        if (!caller.IsAuthenticated)
        {
            return RequiresAuthentication ? Error.Unauthenticated() : null;
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
