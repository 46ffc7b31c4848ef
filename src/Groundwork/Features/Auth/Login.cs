using FluentValidation;
using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
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
/// guessing is throttled per IP and per account (docs/api/limits.md).
/// </summary>
public sealed class Login(
    GroundworkDbContext db,
    PasswordHasher hasher,
    SessionIssuer sessions,
    TimeProvider clock,
    ILogger<Login> logger) : IOperation<LoginRequest, TokenPair>, IAuditedOperation<LoginRequest>
{
    public Policy Policy => Policy.Anonymous;

    /// <summary>Starts a session. No idempotency key: tokens are never stored for replay.</summary>
    public Execution Execution => Execution.Write;

    /// <summary>Per IP, then per account (whatever the e-mail's case or spacing), before any validation or bcrypt.</summary>
    public IReadOnlyList<OperationLimit<LoginRequest>> RateLimits { get; } =
    [
        OperationLimit<LoginRequest>.PerIp("login-ip", r => r.LoginPerIp),
        new("login-account", r => r.LoginPerAccount, (request, _) => User.Normalize(request.Email ?? "")),
    ];

    /// <summary>The password checked before the transaction, against the hash stored then.</summary>
    private PasswordCheck? _checked;

    /// <summary>bcrypt before the transaction (ADR 0025): a login holds no connection while it hashes.</summary>
    public async Task PrepareAsync(LoginRequest request, Caller caller, CancellationToken cancellationToken)
    {
        // A flood past the hashing queue is refused before it reads anything.
        hasher.RefuseIfFull();
        var email = User.Normalize(request.Email!);
        var hash = await db.Users.AsNoTracking().Where(u => u.NormalizedEmail == email).Select(u => u.PasswordHash).FirstOrDefaultAsync(cancellationToken);
        _checked = await hasher.CheckAsync(request.Password!, hash, cancellationToken);
    }

    public async Task<Result<TokenPair>> HandleAsync(LoginRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var email = User.Normalize(request.Email!);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == email, cancellationToken);
        if (!await hasher.MatchesAsync(request.Password!, user?.PasswordHash, _checked, cancellationToken))
        {
            logger.LogWarning("Login failed from IP {Ip} ({Reason})", caller.ClientIp, user is null ? "unknown account" : "wrong password");
            return Error.Unauthenticated("Invalid credentials");
        }

        var pair = sessions.Start(user!, caller);
        AuthEvents.LoginSucceeded(db, clock, user!.Id, caller);
        logger.LogInformation("Login succeeded for user {UserId} from IP {Ip}", user!.Id, caller.ClientIp);
        return pair;
    }

    /// <summary>A refused sign-in (wrong password or unknown e-mail alike) is a security event for admins.</summary>
    public AuditEvent? AuditRefusal(LoginRequest request, Caller caller, Error error) =>
        error.Code == ErrorCode.AuthenticationError ? AuthEvents.LoginFailed(request.Email, caller) : null;
}
