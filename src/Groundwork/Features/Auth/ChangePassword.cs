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

    /// <summary>The current password checked before the transaction, and the new one's hash (ADR 0025).</summary>
    private PasswordCheck? _checked;
    private string? _newHash;

    /// <summary>Both bcrypt runs before the transaction: a password change holds no connection while it hashes.</summary>
    public async Task PrepareAsync(ChangePasswordRequest request, Caller caller, CancellationToken cancellationToken)
    {
        _newHash = null;
        hasher.RefuseIfFull();
        var hash = await db.Users.AsNoTracking().Where(u => u.Id == caller.UserId).Select(u => u.PasswordHash).FirstOrDefaultAsync(cancellationToken);
        _checked = await hasher.CheckAsync(request.CurrentPassword!, hash, cancellationToken);
        if (_checked.Matches)
        {
            _newHash = await hasher.HashAsync(request.NewPassword!, cancellationToken);
        }
    }

    public async Task<Result<Unit>> HandleAsync(ChangePasswordRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == caller.UserId, cancellationToken);
        if (user is null)
        {
            return Error.Unauthenticated();
        }

        if (!await hasher.MatchesAsync(request.CurrentPassword!, user.PasswordHash, _checked, cancellationToken))
        {
            logger.LogWarning("Password change refused for user {UserId}: wrong current password", user.Id);
            return Error.Validation("currentPassword", "Current password is incorrect");
        }

        // Hashed before the transaction, unless the current password did not match then (it was changed in between
        // and matches now): then hashed here.
        user.PasswordHash = _newHash ?? await hasher.HashAsync(request.NewPassword!, cancellationToken);
        user.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        user.Version++;
        cache.Put(UserCache.Kind, user.Id, UserDto.From(user));
        await revocation.RevokeAllAsync(user.Id, keep: caller.SessionId, "password-changed", cancellationToken);
        logger.LogInformation("Password changed for user {UserId}", user.Id);
        return Unit.Value;
    }
}
