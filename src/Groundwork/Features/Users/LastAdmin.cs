using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

/// <summary>
/// The service keeps at least one admin: demoting or deleting the only one would leave nobody able to manage users,
/// webhooks or money short of the <c>create-admin</c> command on a server. Two admins demoting each other at the same
/// moment can still both succeed; the command is the way back from that.
/// </summary>
internal static class LastAdmin
{
    public static async Task<Error?> RefuseLosingAsync(GroundworkDbContext db, User user, CancellationToken cancellationToken) =>
        user.Role == Role.Admin && !await db.Users.AnyAsync(u => u.Role == Role.Admin && u.Id != user.Id, cancellationToken)
            ? Error.Conflict("This is the only admin: make another admin first")
            : null;
}
