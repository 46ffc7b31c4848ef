using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Accounts;

public sealed record GetAccountRequest(Guid Id);

public sealed class GetAccount(GroundworkDbContext db) : IOperation<GetAccountRequest, AccountDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.AccountsRead);

    public async Task<Result<AccountDto>> HandleAsync(GetAccountRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.Id, cancellationToken);
        return account is null || !AccountAccess.CanSee(caller, account) ? Error.NotFound("Account") : AccountDto.From(account);
    }
}

public static class AccountAccess
{
    /// <summary>Owners see their accounts; admins see all (the system's included).</summary>
    public static bool CanSee(Caller caller, Account account)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(account);
        return caller.IsAdmin || (account.OwnerId is { } owner && caller.Is(owner));
    }
}
