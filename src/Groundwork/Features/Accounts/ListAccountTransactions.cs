using System.Buffers.Text;
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
        RuleFor(r => r.Cursor).Must(c => c is null || TransactionCursor.TryDecode(c, out _)).WithMessage("Invalid cursor");
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
        if (request.Cursor is not null && TransactionCursor.TryDecode(request.Cursor, out var after))
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
        var next = hasMore ? TransactionCursor.Encode(page[^1].EntryId) : null;
        return new CursorPage<TransactionDto>(page.Select(r => TransactionDto.From(r.Transaction)).ToList(), request.Limit, hasMore, next);
    }
}

/// <summary>Opaque cursor: the last entry id seen, base64url, so clients do not build cursors by arithmetic.</summary>
public static class TransactionCursor
{
    public static string Encode(long entryId) => Base64Url.EncodeToString(BitConverter.GetBytes(entryId));

    public static bool TryDecode(string cursor, out long entryId)
    {
        entryId = 0;
        if (cursor.Length is 0 or > 16)
        {
            return false;
        }

        try
        {
            var bytes = Base64Url.DecodeFromChars(cursor);
            if (bytes.Length != 8)
            {
                return false;
            }

            entryId = BitConverter.ToInt64(bytes);
            return entryId > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
