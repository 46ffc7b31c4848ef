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
    /// The private fields of a user reached through something else (a post's author): as above, and an API key
    /// must also carry <c>users:read</c>, as reading the user directly would require.
    /// </summary>
    public static bool CanReadPrivateFields(Caller caller, Guid userId) =>
        CanSeePrivate(caller, userId) && caller.HasScope(Platform.Auth.Scopes.UsersRead);
}
