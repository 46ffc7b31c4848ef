namespace Groundwork.Features.Accounts;

public sealed record AccountDto(Guid Id, Guid? OwnerId, string Currency, long Balance, DateTime CreatedAt)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int Version { get; init; }

    public static AccountDto From(Account a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return new(a.Id, a.OwnerId, a.Currency, a.Balance, a.CreatedAt) { Version = a.Version };
    }
}
