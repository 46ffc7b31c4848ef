using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;

namespace Groundwork.Features.Users;

public sealed record CreateUserRequest(string? Email, string? Name, [property: Secret] string? Password, Role? Role);

public sealed class CreateUserValidator : AbstractValidator<CreateUserRequest>
{
    public CreateUserValidator()
    {
        RuleFor(r => r.Email).ValidEmail();
        RuleFor(r => r.Name).ValidName();
        RuleFor(r => r.Password).ValidPassword();
    }
}

/// <summary>An admin creates a user, choosing the role.</summary>
public sealed class CreateUser(UserRegistration registration) : IOperation<CreateUserRequest, UserDto>
{
    public Policy Policy => Policy.InRole(Scopes.UsersWrite, Role.Admin);

    public Execution Execution => Execution.WriteWithOptionalKey("users.create");

    public CreateUserRequest WithDefaults(CreateUserRequest request, Caller caller) => request with { Role = request.Role ?? Role.User };

    /// <summary>The password's hash, made before the transaction (ADR 0025).</summary>
    private string? _passwordHash;

    public async Task PrepareAsync(CreateUserRequest request, Caller caller, CancellationToken cancellationToken) =>
        _passwordHash = await registration.HashPasswordAsync(request.Password!, cancellationToken);

    public async Task<Result<UserDto>> HandleAsync(CreateUserRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var created = await registration.CreateAsync(request.Email!, request.Name!,
            _passwordHash ?? throw new InvalidOperationException("The pipeline runs PrepareAsync first"), request.Role!.Value, cancellationToken);
        return created.IsSuccess ? UserDto.From(created.Value) : created.Error;
    }
}
