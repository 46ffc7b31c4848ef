using Groundwork.Platform.Operations;

namespace Groundwork.Features.Users;

/// <summary>Who sees a user's private side (the address, the profile itself): the user and staff.</summary>
public static class UserAccess
{
    public static bool CanSeePrivate(Caller caller, Guid userId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.Is(userId) || caller.IsStaff;
    }

    /// <summary>
    /// The private fields (address, role) of a user reached in a GraphQL answer: the caller's own, with any scope,
    /// as <c>Me</c> (<c>GET /auth/me</c>, <c>UserService.GetMe</c>) gives them to any credential; someone else's only
    /// to staff whose API key, if any, carries <c>users:read</c>, as reading that user directly would require.
    /// </summary>
    public static bool CanReadPrivateFields(Caller caller, Guid userId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.Is(userId) || (caller.IsStaff && caller.HasScope(Platform.Auth.Scopes.UsersRead));
    }
}
