using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Caching;

namespace Groundwork.Features.Accounts;

public sealed record GetAccountRequest(Guid Id);

public sealed class GetAccount(EntityCache cache) : IOperation<GetAccountRequest, AccountDto>
{
    public Policy Policy => Policy.Authenticated(Scopes.AccountsRead);

    public async Task<Result<AccountDto>> HandleAsync(GetAccountRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var account = await cache.GetAccountAsync(request.Id, cancellationToken);
        return account is null || !AccountAccess.CanSee(caller, account.OwnerId) ? Error.NotFound("Account") : account;
    }
}

public static class AccountAccess
{
    /// <summary>Owners see their accounts; admins see all (the system's included).</summary>
    public static bool CanSee(Caller caller, Account account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return CanSee(caller, account.OwnerId);
    }

    public static bool CanSee(Caller caller, Guid? ownerId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.IsAdmin || (ownerId is { } owner && caller.Is(owner));
    }
}
