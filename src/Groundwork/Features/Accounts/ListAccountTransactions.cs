using FluentValidation;
using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

public sealed record ListAccountTransactionsRequest(Guid AccountId, int Limit = 20, string? Cursor = null);

public sealed class ListAccountTransactionsValidator : AbstractValidator<ListAccountTransactionsRequest>
{
    public ListAccountTransactionsValidator()
    {
        RuleFor(r => r.Limit).InclusiveBetween(1, PageRequest.MaxLimit).WithMessage($"Must be between 1 and {PageRequest.MaxLimit}");
        RuleFor(r => r.Cursor).Must(c => c is null || KeysetCursor.TryDecode(c, out _)).WithMessage("Invalid cursor");
    }
}

/// <summary>
/// An account's history, newest first, by keyset on (account_id, entry id): page 10,000 costs what page 1 does.
/// </summary>
public sealed class ListAccountTransactions(GroundworkDbContext db) : IOperation<ListAccountTransactionsRequest, CursorPage<TransactionDto>>
{
    public Policy Policy => Policy.Authenticated(Scopes.AccountsRead);

    public async Task<Result<CursorPage<TransactionDto>>> HandleAsync(ListAccountTransactionsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.AccountId, cancellationToken);
        if (account is null || !AccountAccess.CanSee(caller, account))
        {
            return Error.NotFound("Account");
        }

        var entries = db.LedgerEntries.AsNoTracking().Where(e => e.AccountId == request.AccountId);
        if (request.Cursor is not null && KeysetCursor.TryDecode(request.Cursor, out var after))
        {
            entries = entries.Where(e => e.Id < after);
        }

        var rows = await entries.OrderByDescending(e => e.Id).Take(request.Limit + 1)
            .Join(db.LedgerTransactions, e => e.TransactionId, t => t.Id, (e, t) => new { EntryId = e.Id, Transaction = t })
            .ToListAsync(cancellationToken);
        // The join may not keep the order on every provider; restore it.
        rows = rows.OrderByDescending(r => r.EntryId).ToList();
        var hasMore = rows.Count > request.Limit;
        var page = rows.Take(request.Limit).ToList();
        var next = hasMore ? KeysetCursor.Encode(page[^1].EntryId) : null;
        return new CursorPage<TransactionDto>(page.Select(r => TransactionDto.From(r.Transaction)).ToList(), request.Limit, hasMore, next);
    }
}
