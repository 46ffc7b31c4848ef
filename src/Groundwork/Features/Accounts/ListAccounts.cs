using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

public sealed record ListAccountsRequest(PageRequest Page, Guid? OwnerId = null, string? Currency = null);

public sealed class ListAccountsValidator : AbstractValidator<ListAccountsRequest>
{
    public ListAccountsValidator()
    {
        RuleFor(r => r.Page).ValidPage(ListAccounts.SortFields);
        RuleFor(r => r.Currency).Must(c => c is null || Currencies.IsValid(c)).WithMessage("Must be an ISO 4217 currency code");
    }
}

/// <summary>The caller's accounts; admins list anyone's (filter <c>ownerId</c>).</summary>
public sealed class ListAccounts(GroundworkDbContext db, EntityCache cache) : IOperation<ListAccountsRequest, PagedList<AccountDto>>
{
    public static readonly IReadOnlyList<string> SortFields = ["createdAt", "balance"];

    public Policy Policy => Policy.Authenticated(Scopes.AccountsRead);

    public async Task<Result<PagedList<AccountDto>>> HandleAsync(ListAccountsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        if (request.OwnerId is { } requested && !caller.Is(requested) && !caller.IsAdmin)
        {
            return Error.Forbidden("Only admins may list other users' accounts");
        }

        var owner = caller.IsAdmin ? request.OwnerId : caller.UserId;
        var query = db.Accounts.AsNoTracking().Where(a => a.Kind == AccountKind.User);
        if (owner is { } o)
        {
            query = query.Where(a => a.OwnerId == o);
        }

        if (request.Currency is { } currency)
        {
            query = query.Where(a => a.Currency == currency);
        }

        var page = request.Page;
        var desc = page.Order == SortOrder.Desc;
        query = PageRules.CanonicalSort(page.Sort, SortFields) == "balance"
            ? desc ? query.OrderByDescending(a => a.Balance).ThenByDescending(a => a.Id) : query.OrderBy(a => a.Balance).ThenBy(a => a.Id)
            : desc ? query.OrderByDescending(a => a.Id) : query.OrderBy(a => a.Id);
        var total = await query.TotalAsync(request.Page, cache, AccountCache.List, $"{owner}|{request.Currency}", cancellationToken);
        var items = await query.Skip(page.Skip).Take(page.Limit)
            .Select(a => new AccountDto(a.Id, a.OwnerId, a.Currency, a.Balance, a.CreatedAt)).ToListAsync(cancellationToken);
        return new PagedList<AccountDto>(items, page.Page, page.Limit, total);
    }
}
