using Groundwork.Platform.Hosting;

namespace Groundwork.Features.Ledger;

/// <summary>The double-entry ledger: the one service that moves balances (its routes live with accounts and orders).</summary>
public sealed class LedgerModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddScoped<MoneyMovement>();
        services.AddSingleton<AccountQueue>();
    }
}
