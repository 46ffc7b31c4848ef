using Groundwork.Platform.Caching;
using Groundwork.Features.ApiKeys;
using Groundwork.Features.Auth;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

/// <param name="ExpectedVersion">From <c>If-Match</c>; the change applies only to that version.</param>
public sealed record UpdateUserRequest(Guid Id, string? Email, string? Name, Role? Role, int? ExpectedVersion = null);

public sealed class UpdateUserValidator : AbstractValidator<UpdateUserRequest>
{
    public UpdateUserValidator()
    {
        RuleFor(r => r.Email).ValidEmail().When(r => r.Email is not null);
        RuleFor(r => r.Name).ValidName().When(r => r.Name is not null);
        RuleFor(r => r).Must(r => r.Email is not null || r.Name is not null || r.Role is not null)
            .WithName("body").WithMessage("At least one of email, name, role is required");
    }
}

/// <summary>Users edit their own name and email; only admins edit others and roles.</summary>
public sealed class UpdateUser(GroundworkDbContext db, SessionStatus status, CommitHooks hooks, CacheWrites cache, ApiKeyStatusEviction keys, TimeProvider clock) : IOperation<UpdateUserRequest, UserDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.UsersWrite);

    public Execution Execution => Execution.Write;

    public async Task<Result<UserDto>> HandleAsync(UpdateUserRequest request, Caller caller, CancellationToken cancellationToken)
    {
        if (!UserAccess.CanSeePrivate(caller, request.Id))
        {
            return Error.NotFound("User");
        }

        if (!caller.IsAdmin && (request.Role is not null || !caller.Is(request.Id)))
        {
            return Error.Forbidden(request.Role is not null ? "Only admins may change roles" : "You may only edit your own profile");
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == request.Id, cancellationToken);
        if (user is null)
        {
            return Error.NotFound("User");
        }

        if (request.ExpectedVersion is { } expected && expected != user.Version)
        {
            return Error.PreconditionFailed();
        }

        if (request.Email is not null)
        {
            var normalized = User.Normalize(request.Email);
            if (normalized != user.NormalizedEmail && await db.Users.AnyAsync(u => u.NormalizedEmail == normalized, cancellationToken))
            {
                return Error.Duplicate("email", "A user with this email already exists");
            }

            user.Email = request.Email.Trim();
            user.NormalizedEmail = normalized;
        }

        if (request.Name is not null)
        {
            user.Name = request.Name.Trim();
        }

        if (request.Role is { } role && role != user.Role)
        {
            if (await LastAdmin.RefuseLosingAsync(db, user, cancellationToken) is { } last)
            {
                return last;
            }

            user.Role = role;
            // Tokens carry the role as it was; requests read it from the session status, so drop this node's cached
            // answers once the change commits and the new role applies to the user's live sessions at once.
            var sessions = await db.Sessions.Where(s => s.UserId == user.Id && s.RevokedAt == null).Select(s => s.Id).ToListAsync(cancellationToken);
            hooks.AfterCommit(() => sessions.ForEach(status.Forget));
            await keys.AfterCommitAsync(k => k.UserId == user.Id && k.RevokedAt == null, cancellationToken);
        }

        user.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        // Version is a concurrency token: a change between our read and the pipeline's save answers 409.
        user.Version++;
        var updated = UserDto.From(user);
        UserEvents.Updated(db, clock, updated);
        cache.Put(UserCache.Kind, user.Id, updated);
        cache.ListChanged(UserCache.List);
        return updated;
    }
}
