using Groundwork.Platform.Caching;
using Groundwork.Features.Auth;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Features.ApiKeys;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

public sealed record DeleteUserRequest(Guid Id, int? ExpectedVersion = null);

/// <summary>
/// Users delete themselves; admins delete anyone. The user row is soft-deleted (its orders and ledger entries
/// keep their owner) and every session and API key of the user dies in the same transaction.
/// </summary>
public sealed class DeleteUser(GroundworkDbContext db, SessionRevocation sessions, ApiKeyStatusEviction keys, CacheWrites cache, TimeProvider clock) : IOperation<DeleteUserRequest, Unit>
{
    public Policy Policy => Policy.Authenticated(Scopes.UsersWrite);

    public Execution Execution => Execution.Write;

    public async Task<Result<Unit>> HandleAsync(DeleteUserRequest request, Caller caller, CancellationToken cancellationToken)
    {
        if (!UserAccess.CanSeePrivate(caller, request.Id))
        {
            return Error.NotFound("User");
        }

        if (!caller.Is(request.Id) && !caller.IsAdmin)
        {
            return Error.Forbidden("Only admins may delete other users");
        }

        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == request.Id, cancellationToken);
        if (user is null)
        {
            return Error.NotFound("User");
        }

        if (request.ExpectedVersion is { } expected && expected != user.Version)
        {
            return Error.PreconditionFailed();
        }

        if (await LastAdmin.RefuseLosingAsync(db, user, cancellationToken) is { } last)
        {
            return last;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var deleted = await db.Users.Where(u => u.Id == request.Id && u.Version == user.Version)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.DeletedAt, now).SetProperty(u => u.UpdatedAt, now)
                .SetProperty(u => u.Version, u => u.Version + 1), cancellationToken);
        if (deleted == 0)
        {
            return request.ExpectedVersion is null ? Error.Conflict("The user was changed concurrently, retry", ConflictKind.Concurrency) : Error.PreconditionFailed();
        }

        // The user's posts, orders and accounts stay as they are (soft delete keeps their owner), so only the
        // user's own entry goes; sessions and keys die below and their cached statuses with them.
        UserEvents.Deleted(db, clock, request.Id);
        cache.Remove(UserCache.Kind, request.Id);
        cache.ListChanged(UserCache.List);
        await keys.AfterCommitAsync(k => k.UserId == request.Id && k.RevokedAt == null, cancellationToken);
        await db.ApiKeys.Where(k => k.UserId == request.Id && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken);
        await sessions.RevokeAllAsync(request.Id, keep: null, "user-deleted", cancellationToken);
        return Unit.Value;
    }
}
