using Groundwork.Platform.Messaging;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.Users;

/// <summary>The user events of the catalogue (docs/events.md), staged in the change's own transaction.</summary>
internal static class UserEvents
{
    public static void Created(GroundworkDbContext db, TimeProvider clock, User user) =>
        Outbox.Add(db, clock, "user.created", user.Id, UserDto.From(user), EventAudience.OwnersAndAdmins(user.Id));

    public static void Updated(GroundworkDbContext db, TimeProvider clock, UserDto user) =>
        Outbox.Add(db, clock, "user.updated", user.Id, user, EventAudience.OwnersAndAdmins(user.Id));

    public static void Deleted(GroundworkDbContext db, TimeProvider clock, Guid userId) =>
        Outbox.Add(db, clock, "user.deleted", userId, new { id = userId }, EventAudience.OwnersAndAdmins(userId));
}
