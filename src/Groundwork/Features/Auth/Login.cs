using FluentValidation;
using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.RateLimiting;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Auth;

public sealed record LoginRequest(string? Email, string? Password);

public sealed class LoginValidator : AbstractValidator<LoginRequest>
{
    public LoginValidator()
    {
        // Only shape checks: a strict password rule here would tell guessers which passwords cannot exist.
        RuleFor(r => r.Email).NotEmpty().WithMessage("Email is required").MaximumLength(254);
        RuleFor(r => r.Password).NotEmpty().WithMessage("Password is required").MaximumLength(1024);
    }
}

/// <summary>
/// Password login. Unknown email and wrong password answer the same error after the same bcrypt work, and
/// guessing is throttled per IP and per account (SPEC §6, §9).
/// </summary>
public sealed class Login(
    GroundworkDbContext db,
    PasswordHasher hasher,
    SessionIssuer sessions,
    RateLimiter limiter,
    GroundworkSettings settings,
    ILogger<Login> logger) : IOperation<LoginRequest, TokenPair>
{
    public Policy Policy => Policy.Anonymous;

    public async Task<Result<TokenPair>> HandleAsync(LoginRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var email = User.Normalize(request.Email!);
        var byIp = limiter.TryAcquire("login-ip", caller.ClientIp ?? "unknown", settings.RateLimits.LoginPerIp);
        if (!byIp.Allowed)
        {
            logger.LogWarning("Login throttled for IP {Ip}", caller.ClientIp);
            return Error.RateLimited(byIp);
        }

        var byAccount = limiter.TryAcquire("login-account", email, settings.RateLimits.LoginPerAccount);
        if (!byAccount.Allowed)
        {
            logger.LogWarning("Login throttled for an account from IP {Ip}", caller.ClientIp);
            return Error.RateLimited(byAccount);
        }

        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == email, cancellationToken);
        if (!hasher.Verify(request.Password!, user?.PasswordHash))
        {
            logger.LogWarning("Login failed from IP {Ip} ({Reason})", caller.ClientIp, user is null ? "unknown account" : "wrong password");
            return Error.Unauthenticated("Invalid credentials");
        }

        var pair = await sessions.StartAsync(user!, caller, cancellationToken);
        logger.LogInformation("Login succeeded for user {UserId} from IP {Ip}", user!.Id, caller.ClientIp);
        return pair;
    }
}
