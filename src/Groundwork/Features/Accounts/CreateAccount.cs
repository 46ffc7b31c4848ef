using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.Accounts;

public sealed record CreateAccountRequest(string? Currency);

public sealed class CreateAccountValidator : AbstractValidator<CreateAccountRequest>
{
    public CreateAccountValidator() =>
        RuleFor(r => r.Currency).Must(Currencies.IsValid).WithMessage("Must be an ISO 4217 currency code such as EUR or USD");
}

/// <summary>Opens an empty account for the caller.</summary>
public sealed class CreateAccount(GroundworkDbContext db, CacheWrites cache, TimeProvider clock) : IOperation<CreateAccountRequest, AccountDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.TransfersWrite);

    public Execution Execution => Execution.WriteWithOptionalKey("accounts.create");

    public Task<Result<AccountDto>> HandleAsync(CreateAccountRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var account = new Account { OwnerId = caller.UserId, Kind = AccountKind.User, Currency = request.Currency!, CreatedAt = clock.GetUtcNow().UtcDateTime };
        db.Accounts.Add(account);
        cache.ListChanged(AccountCache.List);
        return Task.FromResult<Result<AccountDto>>(AccountDto.From(account));
    }
}
