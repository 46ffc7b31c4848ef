using Groundwork.Features.Accounts;
using Groundwork.Features.Ledger;
using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;

using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Reliability;

/// <summary>
/// 32 clients doing 20 random transfers each among 8 accounts on PostgreSQL, then every invariant. A fixed number
/// of requests, not "as many as fit in N seconds": the outcome cannot depend on how fast the machine is.
/// </summary>
public sealed class TransferStressTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task Random_concurrent_transfers_keep_every_invariant_and_never_fail_with_a_deadlock()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var owners = new List<(Actor Owner, Guid Account)>();
        for (var i = 0; i < 8; i++)
        {
            var owner = await app.ActorAsync();
            var account = await owner.OpenAccountAsync();
            await admin.DepositAsync(account, 10_000);
            owners.Add((owner, account));
        }

        var clients = owners.Select(o => o.Owner.Client()).ToList();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        var created = 0;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async worker =>
        {
            var random = new Random(worker);
            for (var i = 0; i < 20; i++)
            {
                var from = random.Next(8);
                var to = (from + 1 + random.Next(7)) % 8;
                var response = await clients[from].SendAsync(MoneyHelpers.Post("/api/v1/transfers",
                    new { fromAccountId = owners[from].Account, toAccountId = owners[to].Account, amount = random.Next(1, 3_000) }, Guid.NewGuid().ToString()));
                statuses.Add((int)response.StatusCode);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref created);
                }
            }
        }));

        // Only successes and honest refusals reached clients: no 409 from a deadlock, no 500, no 503.
        Assert.Equal(32 * 20, statuses.Count);
        Assert.All(statuses, s => Assert.Contains(s, new[] { 201, 422 }));
        Assert.True(created > 0, "no transfer went through");

        var ids = owners.Select(o => o.Account).ToList();
        var balances = await app.Db(db => db.Accounts.Where(a => ids.Contains(a.Id)).Select(a => a.Balance).ToListAsync());
        Assert.Equal(80_000, balances.Sum());
        Assert.All(balances, b => Assert.True(b >= 0));
        var transfers = await app.Db(db => db.LedgerTransactions.CountAsync(t => t.Type == TransactionType.Transfer && ids.Contains(t.FromAccountId)));
        Assert.Equal(created, transfers);
        await app.AssertLedgerOkAsync(admin);
    }
}
