using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

public sealed class ChangePasswordValidator : AbstractValidator<ChangePasswordRequest>
{
    public ChangePasswordValidator()
    {
        RuleFor(r => r.CurrentPassword).NotEmpty().WithMessage("Current password is required").MaximumLength(1024);
        RuleFor(r => r.NewPassword).ValidPassword();
    }
}

/// <summary>Changes the password and ends every other session: whoever else held one is out.</summary>
public sealed class ChangePassword(
    GroundworkDbContext db,
    PasswordHasher hasher,
    SessionRevocation revocation,
    TimeProvider clock,
    ILogger<ChangePassword> logger, CacheWrites cache) : IOperation<ChangePasswordRequest, Unit>
{
    public Policy Policy => Policy.SessionOnly;

    public Execution Execution => Execution.Write;

    /// <summary>Guessing the current password through a stolen session is throttled like login, per account.</summary>
    public IReadOnlyList<OperationLimit<ChangePasswordRequest>> RateLimits { get; } =
        [OperationLimit<ChangePasswordRequest>.PerUser("password-account", r => r.PasswordChangePerAccount)];

    public async Task<Result<Unit>> HandleAsync(ChangePasswordRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == caller.UserId, cancellationToken);
        if (user is null)
        {
            return Error.Unauthenticated();
        }

        if (!hasher.Verify(request.CurrentPassword!, user.PasswordHash))
        {
            logger.LogWarning("Password change refused for user {UserId}: wrong current password", user.Id);
            return Error.Validation("currentPassword", "Current password is incorrect");
        }

        user.PasswordHash = hasher.Hash(request.NewPassword!);
        user.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        user.Version++;
        cache.Put(UserCache.Kind, user.Id, UserDto.From(user));
        await revocation.RevokeAllAsync(user.Id, keep: caller.SessionId, "password-changed", cancellationToken);
        logger.LogInformation("Password changed for user {UserId}", user.Id);
        return Unit.Value;
    }
}
