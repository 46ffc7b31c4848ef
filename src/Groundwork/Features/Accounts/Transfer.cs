using FluentValidation;
using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.Accounts;

public sealed record TransferRequest(Guid FromAccountId, Guid ToAccountId, long Amount, string? Description);

public sealed class TransferValidator : AbstractValidator<TransferRequest>
{
    public TransferValidator()
    {
        RuleFor(r => r.FromAccountId).NotEmpty().WithMessage("Required");
        RuleFor(r => r.ToAccountId).NotEmpty().WithMessage("Required")
            .NotEqual(r => r.FromAccountId).WithMessage("Cannot transfer to the same account");
        RuleFor(r => r.Amount).InclusiveBetween(1, Money.MaxAmount).WithMessage($"Must be 1 to {Money.MaxAmount} minor units");
        RuleFor(r => r.Description).MaximumLength(500);
    }
}

/// <summary>Moves money from one of the caller's accounts to any user account of the same currency.</summary>
public sealed class Transfer(GroundworkDbContext db, AccountFacts facts, MoneyMovement money)
    : IOperation<TransferRequest, TransactionDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.TransfersWrite);

    public Execution Execution => Execution.WriteWithRequiredKey("transfers.create");

    public IReadOnlyList<OperationLimit<TransferRequest>> RateLimits { get; } =
        [OperationLimit<TransferRequest>.PerUser("transfers", r => r.Transfers)];

    public async Task<Result<TransactionDto>> HandleAsync(TransferRequest request, Caller caller, CancellationToken cancellationToken)
    {
        // Owner, kind and currency from this node's memory once the database has confirmed them (a hot account
        // never costs a read), else from the database on this transaction's connection.
        var accounts = await facts.UserAccountsAsync(db, [request.FromAccountId, request.ToAccountId], cancellationToken);
        var from = accounts.Find(a => a.Id == request.FromAccountId);
        if (from is null || !AccountAccess.CanSee(caller, from))
        {
            return Error.NotFound("Account");
        }

        if (!caller.Is(from.OwnerId!.Value))
        {
            return Error.Forbidden("Only the owner may move money out of an account");
        }

        var to = accounts.Find(a => a.Id == request.ToAccountId);
        if (to is null)
        {
            return new Error(ErrorCode.NotFound, "Account not found", [new FieldError("toAccountId", "No such account")]);
        }

        var moved = money.Move(TransactionType.Transfer, from, to, request.Amount, null, request.Description);
        return moved.IsSuccess ? TransactionDto.From(moved.Value) : moved.Error;
    }
}
