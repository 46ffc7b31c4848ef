using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

public sealed record GetTransferRequest(Guid Id);

/// <summary>A transfer, visible to the owner of either side and to admins.</summary>
public sealed class GetTransfer(GroundworkDbContext db) : IOperation<GetTransferRequest, TransactionDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.AccountsRead);

    public async Task<Result<TransactionDto>> HandleAsync(GetTransferRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var transfer = await db.LedgerTransactions.AsNoTracking()
            .FirstOrDefaultAsync(t => t.Id == request.Id && t.Type == TransactionType.Transfer, cancellationToken);
        if (transfer is null)
        {
            return Error.NotFound("Transfer");
        }

        if (!caller.IsAdmin)
        {
            var owners = await db.Accounts.Where(a => a.Id == transfer.FromAccountId || a.Id == transfer.ToAccountId)
                .Select(a => a.OwnerId).ToListAsync(cancellationToken);
            if (!owners.Contains(caller.UserId))
            {
                return Error.NotFound("Transfer");
            }
        }

        return TransactionDto.From(transfer);
    }
}
