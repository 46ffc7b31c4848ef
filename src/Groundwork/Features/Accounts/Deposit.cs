using FluentValidation;
using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

public sealed record DepositRequest(Guid AccountId, long Amount, string? Description);

public sealed class DepositValidator : AbstractValidator<DepositRequest>
{
    public DepositValidator()
    {
        RuleFor(r => r.Amount).InclusiveBetween(1, Money.MaxAmount).WithMessage($"Must be 1 to {Money.MaxAmount} minor units");
        RuleFor(r => r.Description).MaximumLength(500);
    }
}

/// <summary>An admin credits a user account from the currency's external account.</summary>
public sealed class Deposit(GroundworkDbContext db, SystemAccounts system, MoneyMovement money)
    : IOperation<DepositRequest, TransactionDto>
{
    public Policy Policy => Policy.InRole(Scopes.TransfersWrite, Role.Admin);

    public Execution Execution => Execution.WriteWithRequiredKey("accounts.deposit");

    public async Task<Result<TransactionDto>> HandleAsync(DepositRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.AccountId && a.Kind == AccountKind.User, cancellationToken);
        if (account is null)
        {
            return Error.NotFound("Account");
        }

        var external = await system.GetAsync(AccountKind.External, account.Currency, cancellationToken);
        var moved = money.Move(TransactionType.Deposit, external, account, request.Amount, null, request.Description);
        return moved.IsSuccess ? TransactionDto.From(moved.Value) : moved.Error;
    }
}
