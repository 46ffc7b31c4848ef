using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Messaging;

public enum EventVisibility
{
    /// <summary>Anyone who may subscribe (a published post).</summary>
    Everyone = 0,

    /// <summary>The owners, moderators and admins (a post taken down).</summary>
    OwnersAndStaff = 1,

    /// <summary>The owners and admins (orders, money, a user's own record).</summary>
    OwnersAndAdmins = 2,
}

/// <summary>
/// Who may receive an event, decided by the code that makes it and stored with it, so every stream (SSE, GraphQL,
/// gRPC) and every replay apply one rule. At most two owners: a transfer has two account holders.
/// </summary>
public readonly record struct EventAudience(EventVisibility Visibility, Guid? Owner = null, Guid? OtherOwner = null)
{
    public static EventAudience Everyone => new(EventVisibility.Everyone);

    public static EventAudience OwnerAndStaff(Guid owner) => new(EventVisibility.OwnersAndStaff, owner);

    public static EventAudience OwnersAndAdmins(Guid? owner, Guid? otherOwner = null) => new(EventVisibility.OwnersAndAdmins, owner, otherOwner);

    public bool Allows(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return Visibility switch
        {
            EventVisibility.Everyone => true,
            _ when caller.UserId is { } me && (Owner == me || OtherOwner == me) => true,
            EventVisibility.OwnersAndStaff => caller.IsStaff,
            _ => caller.IsAdmin,
        };
    }
}
