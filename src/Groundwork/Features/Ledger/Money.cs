namespace Groundwork.Features.Ledger;

/// <summary>Bounds on amounts, so no balance or total can overflow a 64-bit integer (amounts are integer minor units).</summary>
public static class Money
{
    /// <summary>The largest amount one movement (transfer, deposit, payment) may carry: 10^15 minor units.</summary>
    public const long MaxAmount = 1_000_000_000_000_000;

    /// <summary>
    /// No balance may pass ±10^18 (long.MaxValue is about 9.2 × 10^18): a credit that would is refused under the
    /// row lock, so even a million maximal deposits cannot overflow the column.
    /// </summary>
    public const long MaxBalance = 1_000_000_000_000_000_000;
}
