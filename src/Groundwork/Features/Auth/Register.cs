using FluentValidation;
using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;

namespace Groundwork.Features.Auth;

public sealed record RegisterRequest(string? Email, string? Name, string? Password);

public sealed class RegisterValidator : AbstractValidator<RegisterRequest>
{
    public RegisterValidator()
    {
        RuleFor(r => r.Email).ValidEmail();
        RuleFor(r => r.Name).ValidName();
        RuleFor(r => r.Password).ValidPassword();
    }
}

/// <summary>Anyone may sign up as a plain user; 5 sign-ups a minute per IP.</summary>
public sealed class Register(UserRegistration registration, ILogger<Register> logger) : IOperation<RegisterRequest, UserDto>
{
    public Policy Policy => Policy.Anonymous;

    /// <summary>No idempotency key: sign-up is under <c>/auth</c>, and a duplicate email answers 409 anyway.</summary>
    public Execution Execution => Execution.Write;

    public IReadOnlyList<OperationLimit<RegisterRequest>> RateLimits { get; } =
        [OperationLimit<RegisterRequest>.PerIp("register-ip", r => r.RegisterPerIp)];

    /// <summary>The password's hash, made before the transaction (ADR 0025).</summary>
    private string? _passwordHash;

    public async Task PrepareAsync(RegisterRequest request, Caller caller, CancellationToken cancellationToken) =>
        _passwordHash = await registration.HashPasswordAsync(request.Password!, cancellationToken);

    public async Task<Result<UserDto>> HandleAsync(RegisterRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var created = await registration.CreateAsync(request.Email!, request.Name!,
            _passwordHash ?? throw new InvalidOperationException("The pipeline runs PrepareAsync first"), Role.User, cancellationToken);
        if (!created.IsSuccess)
        {
            return created.Error;
        }

        logger.LogInformation("User {UserId} registered", created.Value.Id);
        return UserDto.From(created.Value);
    }
}
