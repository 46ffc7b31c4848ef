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
}
