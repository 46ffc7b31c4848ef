using FluentValidation;
using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.RateLimiting;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

public sealed record TransferRequest(Guid FromAccountId, Guid ToAccountId, long Amount, string? Description);

public sealed class TransferValidator : AbstractValidator<TransferRequest>
{
    public TransferValidator()
    {
        RuleFor(r => r.FromAccountId).NotEmpty().WithMessage("Required");
        RuleFor(r => r.ToAccountId).NotEmpty().WithMessage("Required")
            .NotEqual(r => r.FromAccountId).WithMessage("Cannot transfer to the same account");
        RuleFor(r => r.Amount).GreaterThan(0).WithMessage("Must be a positive amount of minor units");
        RuleFor(r => r.Description).MaximumLength(500);
    }
}

/// <summary>Moves money from one of the caller's accounts to any user account of the same currency.</summary>
public sealed class Transfer(GroundworkDbContext db, MoneyMovement money, RateLimiter limiter, GroundworkSettings settings)
    : IOperation<TransferRequest, TransactionDto>, ITransactionalOperation
{
    public Policy Policy => Policy.Authenticated(Scopes.TransfersWrite);

    public async Task<Result<TransactionDto>> HandleAsync(TransferRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var limit = limiter.TryAcquire("transfers", $"user:{caller.UserId}", settings.RateLimits.Transfers);
        if (!limit.Allowed)
        {
            return Error.RateLimited(limit);
        }

        var from = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.FromAccountId && a.Kind == AccountKind.User, cancellationToken);
        if (from is null || !AccountAccess.CanSee(caller, from))
        {
            return Error.NotFound("Account");
        }

        if (!caller.Is(from.OwnerId!.Value))
        {
            return Error.Forbidden("Only the owner may move money out of an account");
        }

        var to = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.ToAccountId && a.Kind == AccountKind.User, cancellationToken);
        if (to is null)
        {
            return new Error(ErrorCode.NotFound, "Account not found", [new FieldError("toAccountId", "No such account")]);
        }

        var moved = await money.MoveAsync(TransactionType.Transfer, from, to, request.Amount, null, request.Description, cancellationToken);
        return moved.IsSuccess ? TransactionDto.From(moved.Value) : moved.Error;
    }
}
