namespace Groundwork.Features.Ledger;

public sealed record TransactionDto(
    Guid Id, TransactionType Type, long Amount, string Currency, Guid FromAccountId, Guid ToAccountId, Guid? OrderId,
    string? Description, DateTime CreatedAt)
{
    public static TransactionDto From(LedgerTransaction t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return new(t.Id, t.Type, t.Amount, t.Currency, t.FromAccountId, t.ToAccountId, t.OrderId, t.Description, t.CreatedAt);
    }
}
