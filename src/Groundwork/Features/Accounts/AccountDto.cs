namespace Groundwork.Features.Accounts;

public sealed record AccountDto(Guid Id, Guid? OwnerId, string Currency, long Balance, DateTime CreatedAt)
{
    public static AccountDto From(Account a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return new(a.Id, a.OwnerId, a.Currency, a.Balance, a.CreatedAt);
    }
}
