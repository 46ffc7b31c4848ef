using Groundwork.Bench;
using Groundwork.Features.Accounts;
using Groundwork.Features.ApiKeys;
using Groundwork.Features.Audit;
using Groundwork.Features.Auth;
using Groundwork.Features.Discovery;
using Groundwork.Features.Events;
using Groundwork.Features.Ledger;
using Groundwork.Features.Orders;
using Groundwork.Features.Posts;
using Groundwork.Features.Users;
using Groundwork.Features.Webhooks;
using Groundwork.Platform.Hosting;

namespace Groundwork.App;

/// <summary>
/// The composition root's one list: every feature the host runs, in the order their GraphQL fields appear
/// (the seed schema's users and posts first). A new feature is a folder with an <see cref="IFeatureModule"/> and
/// one line here.
/// </summary>
public static class FeatureModules
{
    public static IReadOnlyList<IFeatureModule> All { get; } =
    [
        new UsersModule(),
        new PostsModule(),
        new AuthModule(),
        new ApiKeysModule(),
        new OrdersModule(),
        new AccountsModule(),
        new LedgerModule(),
        new EventsModule(),
        new WebhooksModule(),
        new AuditModule(),
        new DiscoveryModule(),
        new BenchModule(),
    ];
}
