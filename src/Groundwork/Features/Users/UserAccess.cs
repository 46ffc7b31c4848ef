using Groundwork.Platform.Operations;

namespace Groundwork.Features.Users;

/// <summary>Who sees a user's private side (the e-mail address, the profile itself): the user and staff.</summary>
public static class UserAccess
{
    public static bool CanSeePrivate(Caller caller, Guid userId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.Is(userId) || caller.IsStaff;
    }

    /// <summary>
    /// The private fields (e-mail address, role) of a user reached anywhere in a GraphQL answer, a post's author
    /// included. Unlike <see cref="CanSeePrivate"/> (the operations that read or change a user, whose scope the
    /// pipeline checks) it also weighs the API key's scopes, since no operation's policy covers a field reached
    /// through another object: the caller's own, with any scope, as <c>Me</c> (<c>GET /auth/me</c>,
    /// <c>UserService.GetMe</c>) gives them to any credential; someone else's only to staff whose API key, if any,
    /// carries <c>users:read</c>, as reading that user directly would require.
    /// </summary>
    public static bool CanReadPrivateFields(Caller caller, Guid userId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.Is(userId) || (caller.IsStaff && caller.HasScope(Platform.Auth.Scopes.UsersRead));
    }
}
