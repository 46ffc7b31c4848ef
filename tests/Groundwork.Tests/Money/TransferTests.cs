using System.Text.Json.Nodes;
using Groundwork.Features.Accounts;
using Groundwork.Features.Ledger;
using System.Net.Http.Json;
using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Groundwork.Tests.Infrastructure.MoneyHelpers;

namespace Groundwork.Tests.Money;

public abstract class TransferTests(GroundworkApp app)
{
    private async Task<(Actor Admin, Actor Alice, Actor Bob, Guid A, Guid B)> SetupAsync(long deposit = 10_000)
    {
        var admin = await app.ActorAsync(Role.Admin);
        var alice = await app.ActorAsync();
        var bob = await app.ActorAsync();
        var a = await alice.OpenAccountAsync();
        var b = await bob.OpenAccountAsync();
        if (deposit > 0)
        {
            await admin.DepositAsync(a, deposit);
        }

        return (admin, alice, bob, a, b);
    }

    [Fact]
    public async Task Deposit_transfer_replay_and_ledger_verify_end_to_end()
    {
        var (admin, alice, bob, a, b) = await SetupAsync();
        Assert.Equal(10_000, await app.BalanceAsync(a));

        var key = Guid.NewGuid().ToString();
        var first = await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 2_500, description = "rent" }, key));
        var firstBody = await first.Content.ReadAsStringAsync();
        var created = await first.AssertStatus(201);
        var data = created["data"]!;
        Assert.Equal("transfer", data["type"]!.GetValue<string>());
        Assert.Equal(2_500, data["amount"]!.GetValue<long>());
        Assert.Equal("EUR", data["currency"]!.GetValue<string>());
        Assert.Equal("rent", data["description"]!.GetValue<string>());
        var transferId = data["id"]!.GetValue<string>();
        Assert.Equal($"/api/v1/transfers/{transferId}", first.Headers.Location!.OriginalString);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        var replay = await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 2_500, description = "rent" }, key));
        Assert.Equal(201, (int)replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, replay.Headers.Location);

        Assert.Equal(7_500, await app.BalanceAsync(a));
        Assert.Equal(2_500, await app.BalanceAsync(b));
        Assert.Equal(1, await app.Db(db => db.LedgerTransactions.CountAsync(t => t.FromAccountId == a && t.Type == Groundwork.Features.Ledger.TransactionType.Transfer)));

        var account = await (await alice.Client().GetAsync($"/api/v1/accounts/{a}")).AssertStatus(200);
        Assert.Equal(7_500, account["data"]!["balance"]!.GetValue<long>());

        await (await alice.Client().GetAsync($"/api/v1/transfers/{transferId}")).AssertStatus(200);
        await (await bob.Client().GetAsync($"/api/v1/transfers/{transferId}")).AssertStatus(200);
        await (await admin.Client().GetAsync($"/api/v1/transfers/{transferId}")).AssertStatus(200);
        var stranger = await app.ActorAsync();
        await (await stranger.Client().GetAsync($"/api/v1/transfers/{transferId}")).AssertError(404, "NOT_FOUND");

        var history = await (await alice.Client().GetAsync($"/api/v1/accounts/{a}/transactions")).AssertStatus(200);
        var types = history["data"]!.AsArray().Select(t => t!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["transfer", "deposit"], types);
        Assert.False(history["meta"]!["hasMore"]!.GetValue<bool>());
        Assert.Null(history["links"]!["next"]);

        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task A_failed_transfer_changes_nothing_and_stores_no_key_so_a_retry_can_succeed()
    {
        var (admin, alice, _, a, b) = await SetupAsync(deposit: 100);
        var key = Guid.NewGuid().ToString();
        var outboxBefore = await app.Db(db => db.OutboxMessages.CountAsync());

        var tooMuch = await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 500 }, key));
        await tooMuch.AssertError(422, "INSUFFICIENT_FUNDS");
        Assert.Equal(100, await app.BalanceAsync(a));
        Assert.Equal(0, await app.BalanceAsync(b));
        Assert.Equal(outboxBefore, await app.Db(db => db.OutboxMessages.CountAsync()));
        Assert.False(await app.Db(db => db.IdempotencyRecords.AnyAsync(r => r.Key == key)));

        await admin.DepositAsync(a, 1_000);
        var retry = await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 500 }, key));
        await retry.AssertStatus(201);
        Assert.Equal(600, await app.BalanceAsync(a));
        Assert.Equal(500, await app.BalanceAsync(b));
        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task A_credit_past_the_maximum_balance_is_refused_and_changes_nothing()
    {
        var (admin, alice, _, a, b) = await SetupAsync(deposit: 100);
        var max = Groundwork.Features.Ledger.Money.MaxBalance;
        // Nearly full, set directly (deposits are capped far below the maximum balance); put back to what the ledger
        // says at the end, since the other tests of this class check the whole ledger.
        await app.Db(db => db.Accounts.Where(x => x.Id == b).ExecuteUpdateAsync(s => s.SetProperty(x => x.Balance, max - 10)));
        try
        {
            var transactionsBefore = await app.Db(db => db.LedgerTransactions.CountAsync());
            var outboxBefore = await app.Db(db => db.OutboxMessages.CountAsync());
            var key = Guid.NewGuid().ToString();

            var refused = await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 11 }, key));
            var error = await refused.AssertError(400, "VALIDATION_ERROR");
            Assert.Contains("amount", error.Fields());
            Assert.Equal(100, await app.BalanceAsync(a));
            Assert.Equal(max - 10, await app.BalanceAsync(b));
            Assert.Equal(transactionsBefore, await app.Db(db => db.LedgerTransactions.CountAsync()));
            Assert.Equal(outboxBefore, await app.Db(db => db.OutboxMessages.CountAsync()));
            Assert.False(await app.Db(db => db.IdempotencyRecords.AnyAsync(r => r.Key == key)));

            // Up to the maximum exactly is allowed.
            await (await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 10 }, Guid.NewGuid().ToString()))).AssertStatus(201);
            Assert.Equal(max, await app.BalanceAsync(b));
            Assert.Equal(90, await app.BalanceAsync(a));
        }
        finally
        {
            var entries = await app.Db(db => db.LedgerEntries.Where(e => e.AccountId == b).Select(e => e.Amount).ToListAsync());
            await app.Db(db => db.Accounts.Where(x => x.Id == b).ExecuteUpdateAsync(s => s.SetProperty(x => x.Balance, entries.Sum())));
        }

        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task A_refused_debit_undoes_the_credit_that_ran_before_it()
    {
        // Both balance updates go in one command, in account-id order: with Bob's account sorting after Alice's, the
        // credit to Alice runs first, then Bob's debit fails. The credit must not stay. Ids are time-ordered (UUIDv7)
        // but two opened in the same millisecond may sort either way, so Bob opens accounts until one sorts after.
        var (admin, alice, bob, a, b) = await SetupAsync(deposit: 100);
        for (var tries = 0; b.CompareTo(a) < 0; tries++)
        {
            Assert.True(tries < 10, "no account of Bob's sorted after Alice's");
            b = await bob.OpenAccountAsync();
        }

        // The case this test is about: the movement puts the credit's leg first, so in its one command the credit's
        // UPDATE runs (and succeeds) before the debit's is refused.
        var (fromAccount, toAccount) = await app.Db(async db => (await db.Accounts.AsNoTracking().SingleAsync(x => x.Id == b), await db.Accounts.AsNoTracking().SingleAsync(x => x.Id == a)));
        var firstLeg = MoneyMovement.Legs(fromAccount, toAccount, 1)[0];
        Assert.Equal((a, 1L), (firstLeg.Account.Id, firstLeg.Delta));

        var refused = await bob.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = b, toAccountId = a, amount = 1 }, Guid.NewGuid().ToString()));
        await refused.AssertError(422, "INSUFFICIENT_FUNDS");
        Assert.Equal(100, await app.BalanceAsync(a));
        Assert.Equal(0, await app.BalanceAsync(b));
        var account = await (await alice.Client().GetAsync($"/api/v1/accounts/{a}")).AssertStatus(200);
        Assert.Equal(100, account["data"]!["balance"]!.GetValue<long>());
        Assert.Equal(0, await app.Db(db => db.LedgerTransactions.CountAsync(t => t.FromAccountId == b)));
        await app.AssertLedgerOkAsync(admin);
        Assert.Equal(0, app.Service<AccountQueue>().ActiveAccounts);
    }

    [Fact]
    public async Task Money_staged_outside_the_pipelines_transaction_is_refused_at_once()
    {
        // A staged movement is written when the pipeline's transaction commits; with no transaction it would never
        // be written, or be written by whatever transaction of the scope commits next.
        var (_, _, _, a, b) = await SetupAsync();
        var refused = await app.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<Groundwork.Platform.Persistence.GroundworkDbContext>();
            var from = await db.Accounts.AsNoTracking().SingleAsync(x => x.Id == a);
            var to = await db.Accounts.AsNoTracking().SingleAsync(x => x.Id == b);
            return Record.Exception(() => services.GetRequiredService<MoneyMovement>().Move(TransactionType.Transfer, from, to, 1, null, null));
        });
        Assert.IsType<InvalidOperationException>(refused);
        Assert.Equal(10_000, await app.BalanceAsync(a));
        Assert.Equal(0, await app.BalanceAsync(b));
    }

    [Fact]
    public async Task Same_key_with_a_different_body_is_422_and_moves_nothing()
    {
        var (_, alice, _, a, b) = await SetupAsync();
        var key = Guid.NewGuid().ToString();
        await (await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 100 }, key))).AssertStatus(201);

        var reused = await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 999 }, key));
        await reused.AssertError(422, "IDEMPOTENCY_KEY_REUSED");
        var otherPath = await alice.Client().SendAsync(Post($"/api/v1/accounts", new { currency = "EUR" }, key));
        await otherPath.AssertError(422, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(9_900, await app.BalanceAsync(a));
    }

    [Fact]
    public async Task Keys_are_scoped_to_the_principal()
    {
        var (admin, alice, bob, a, b) = await SetupAsync();
        await admin.DepositAsync(b, 1_000);
        var key = "shared-key-" + Guid.NewGuid();
        await (await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 100 }, key))).AssertStatus(201);
        var bobs = await bob.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = b, toAccountId = a, amount = 100 }, key));
        await bobs.AssertStatus(201);
        Assert.False(bobs.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(10_000, await app.BalanceAsync(a));
    }

    [Theory]
    [InlineData("{\"fromAccountId\":\"{a}\",\"toAccountId\":\"{b}\",\"amount\":0}", "amount")]
    [InlineData("{\"fromAccountId\":\"{a}\",\"toAccountId\":\"{b}\",\"amount\":-5}", "amount")]
    [InlineData("{\"fromAccountId\":\"{a}\",\"toAccountId\":\"{a}\",\"amount\":5}", "toAccountId")]
    [InlineData("{\"fromAccountId\":\"{a}\",\"toAccountId\":\"{b}\",\"amount\":1.5}", "amount")]
    [InlineData("{\"fromAccountId\":\"{a}\",\"toAccountId\":\"{b}\",\"amount\":\"5\"}", "amount")]
    [InlineData("{\"fromAccountId\":\"{a}\",\"toAccountId\":\"{b}\",\"amount\":5,\"fee\":1}", "fee")]
    [InlineData("{\"toAccountId\":\"{b}\",\"amount\":5}", "fromAccountId")]
    public async Task Invalid_transfers_are_400_and_move_nothing(string template, string field)
    {
        var (_, alice, _, a, b) = await SetupAsync();
        var json = template.Replace("{a}", a.ToString(), StringComparison.Ordinal).Replace("{b}", b.ToString(), StringComparison.Ordinal);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/transfers") { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var error = await (await alice.Client().SendAsync(request)).AssertError(400, "VALIDATION_ERROR");
        Assert.Contains(field, error.Fields());
        Assert.Equal(10_000, await app.BalanceAsync(a));
        Assert.Equal(0, await app.Db(db => db.IdempotencyRecords.CountAsync(r => r.Principal == $"user:{alice.Id}")));
    }

    [Fact]
    public async Task Missing_or_oversized_idempotency_key_is_400()
    {
        var (_, alice, _, a, b) = await SetupAsync();
        var missing = await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 5 }));
        Assert.Contains("Idempotency-Key", (await missing.AssertError(400, "VALIDATION_ERROR")).Fields());
        var huge = await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 5 }, new string('k', 256)));
        await huge.AssertError(400, "VALIDATION_ERROR");
        Assert.Equal(10_000, await app.BalanceAsync(a));
    }

    [Fact]
    public async Task Currency_mismatch_is_422_and_unknown_or_foreign_accounts_are_404()
    {
        var (admin, alice, bob, a, _) = await SetupAsync();
        var usd = await bob.OpenAccountAsync("USD");
        await (await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = usd, amount = 5 }, Guid.NewGuid().ToString())))
            .AssertError(422, "CURRENCY_MISMATCH");
        await (await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = Guid.CreateVersion7(), amount = 5 }, Guid.NewGuid().ToString())))
            .AssertError(404, "NOT_FOUND");
        var bobsEur = await bob.OpenAccountAsync();
        await admin.DepositAsync(bobsEur, 50);
        // BOLA: Alice cannot spend from Bob's account, nor learn it exists.
        await (await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = bobsEur, toAccountId = a, amount = 5 }, Guid.NewGuid().ToString())))
            .AssertError(404, "NOT_FOUND");
        // Admins see every account but may not spend from one that is not theirs.
        var adminsOwn = await admin.OpenAccountAsync();
        await (await admin.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = bobsEur, toAccountId = adminsOwn, amount = 5 }, Guid.NewGuid().ToString())))
            .AssertError(403, "AUTHORIZATION_ERROR");
        Assert.Equal(50, await app.BalanceAsync(bobsEur));
        Assert.Equal(10_000, await app.BalanceAsync(a));
        await (await alice.Client().GetAsync($"/api/v1/accounts/{bobsEur}")).AssertError(404, "NOT_FOUND");
        await (await alice.Client().GetAsync($"/api/v1/accounts/{bobsEur}/transactions")).AssertError(404, "NOT_FOUND");
    }

    [Fact]
    public async Task Deposits_and_ledger_verify_are_admin_only()
    {
        var (_, alice, _, a, _) = await SetupAsync(deposit: 0);
        await (await alice.Client().SendAsync(Post($"/api/v1/accounts/{a}/deposits", new { amount = 1_000_000 }, Guid.NewGuid().ToString())))
            .AssertError(403, "AUTHORIZATION_ERROR");
        await (await alice.Client().GetAsync("/api/v1/admin/ledger/verify")).AssertError(403, "AUTHORIZATION_ERROR");
        await (await app.CreateClient().GetAsync("/api/v1/admin/ledger/verify")).AssertError(401, "AUTHENTICATION_ERROR");
        Assert.Equal(0, await app.BalanceAsync(a));
    }

    [Fact]
    public async Task Transfers_write_their_events_to_the_outbox_in_order()
    {
        var (_, alice, bob, a, b) = await SetupAsync();
        var before = await app.Db(db => db.OutboxMessages.MaxAsync(m => (long?)m.Number)) ?? 0;
        var transfers = new List<(Guid Id, long Amount)>();
        foreach (var amount in new long[] { 42, 17 })
        {
            var created = await (await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount }, Guid.NewGuid().ToString()))).AssertStatus(201);
            transfers.Add((Guid.Parse(created["data"]!["id"]!.GetValue<string>()), amount));
        }

        var subjects = new[] { a, b, transfers[0].Id, transfers[1].Id };
        var events = await app.Db(db => db.OutboxMessages.Where(m => m.Number > before && subjects.Contains(m.Subject)).OrderBy(m => m.Number).ToListAsync());

        // Per transfer, in the order they happened: the transfer, then its debit, then its credit; the second
        // transfer's events all come after the first's (sequence is the commit order readers replay by).
        Assert.Equal(
            ["transfer.completed", "account.debited", "account.credited", "transfer.completed", "account.debited", "account.credited"],
            events.Select(e => e.Type));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Number < p.Second.Number));
        for (var i = 0; i < transfers.Count; i++)
        {
            var (id, amount) = transfers[i];
            var completed = JsonNode.Parse(events[3 * i].Data)!;
            var debited = JsonNode.Parse(events[(3 * i) + 1].Data)!;
            var credited = JsonNode.Parse(events[(3 * i) + 2].Data)!;
            Assert.Equal(id, events[3 * i].Subject);
            Assert.Equal(id.ToString(), completed["id"]!.GetValue<string>());
            Assert.Equal(amount, completed["amount"]!.GetValue<long>());
            Assert.Equal(a.ToString(), completed["fromAccountId"]!.GetValue<string>());
            Assert.Equal(b.ToString(), completed["toAccountId"]!.GetValue<string>());

            Assert.Equal(a, events[(3 * i) + 1].Subject);
            Assert.Equal((a.ToString(), alice.Id.ToString(), amount, id.ToString()),
                (debited["accountId"]!.GetValue<string>(), debited["ownerId"]!.GetValue<string>(), debited["amount"]!.GetValue<long>(), debited["transactionId"]!.GetValue<string>()));
            Assert.Equal(b, events[(3 * i) + 2].Subject);
            Assert.Equal((b.ToString(), bob.Id.ToString(), amount, id.ToString()),
                (credited["accountId"]!.GetValue<string>(), credited["ownerId"]!.GetValue<string>(), credited["amount"]!.GetValue<long>(), credited["transactionId"]!.GetValue<string>()));
        }

        Assert.All(events, e => Assert.Equal(7, e.Id.Version));
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public async Task History_pages_by_cursor_without_gaps_or_overlaps()
    {
        var (admin, alice, _, a, _) = await SetupAsync(deposit: 0);
        for (var i = 1; i <= 25; i++)
        {
            await admin.DepositAsync(a, i);
        }

        var seen = new List<long>();
        string? next = $"/api/v1/accounts/{a}/transactions?limit=10";
        var pages = 0;
        while (next is not null)
        {
            var page = await (await alice.Client().GetAsync(next)).AssertStatus(200);
            seen.AddRange(page["data"]!.AsArray().Select(t => t!["amount"]!.GetValue<long>()));
            Assert.Equal(10, page["meta"]!["limit"]!.GetValue<int>());
            next = page["links"]!["next"]?.GetValue<string>();
            Assert.Equal(next is not null, page["meta"]!["hasMore"]!.GetValue<bool>());
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 25).Reverse().Select(i => (long)i), seen);
        await (await alice.Client().GetAsync($"/api/v1/accounts/{a}/transactions?cursor=garbage!")).AssertError(400, "VALIDATION_ERROR");
        await (await alice.Client().GetAsync($"/api/v1/accounts/{a}/transactions?limit=101")).AssertError(400, "VALIDATION_ERROR");
        var offset = await (await alice.Client().GetAsync($"/api/v1/accounts/{a}/transactions?page=2")).AssertError(400, "VALIDATION_ERROR");
        Assert.Contains("page", offset.Fields());
    }

    [Fact]
    public async Task The_same_key_sent_20_times_at_once_moves_money_exactly_once()
    {
        var (admin, alice, _, a, b) = await SetupAsync();
        var key = Guid.NewGuid().ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 1_000 }, key))));

        var statuses = responses.Select(r => (int)r.StatusCode).ToList();
        Assert.All(statuses, s => Assert.Contains(s, new[] { 201, 409 }));
        var fresh = responses.Where(r => r.StatusCode == System.Net.HttpStatusCode.Created && !r.Headers.Contains("Idempotent-Replayed")).ToList();
        Assert.Single(fresh);
        var body = await fresh[0].Content.ReadAsStringAsync();
        foreach (var replay in responses.Where(r => r.Headers.Contains("Idempotent-Replayed")))
        {
            Assert.Equal(body, await replay.Content.ReadAsStringAsync());
        }

        foreach (var conflict in responses.Where(r => (int)r.StatusCode == 409))
        {
            await conflict.AssertError(409, "CONFLICT");
        }

        Assert.Equal(9_000, await app.BalanceAsync(a));
        Assert.Equal(1_000, await app.BalanceAsync(b));
        Assert.Equal(1, await app.Db(db => db.LedgerTransactions.CountAsync(t => t.FromAccountId == a && t.Type == Groundwork.Features.Ledger.TransactionType.Transfer)));
        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task Concurrent_debits_never_overdraw_and_opposite_transfers_never_fail_the_client()
    {
        var (admin, alice, bob, a, b) = await SetupAsync(deposit: 1_000);
        await admin.DepositAsync(b, 1_000);

        // 40 debits of 100 from an account holding 1,000 (plus Bob's transfers in), racing each other and
        // Bob's opposite-direction transfers.
        var fromAlice = Enumerable.Range(0, 40).Select(_ =>
            alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = a, toAccountId = b, amount = 100 }, Guid.NewGuid().ToString())));
        var fromBob = Enumerable.Range(0, 10).Select(_ =>
            bob.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = b, toAccountId = a, amount = 50 }, Guid.NewGuid().ToString())));
        var responses = await Task.WhenAll(fromAlice.Concat(fromBob));

        var outcomes = await Task.WhenAll(responses.Select(async r => (Status: (int)r.StatusCode, Body: await r.Content.ReadAsStringAsync())));
        Assert.All(outcomes, o => Assert.True(o.Status is 201 or 422, $"{o.Status}: {o.Body}"));
        var aliceOk = responses.Take(40).Count(r => (int)r.StatusCode == 201);
        var bobOk = responses.Skip(40).Count(r => (int)r.StatusCode == 201);
        Assert.True(aliceOk >= 10, $"only {aliceOk} of Alice's transfers succeeded");
        Assert.Equal(1_000 - (aliceOk * 100) + (bobOk * 50), await app.BalanceAsync(a));
        Assert.Equal(1_000 + (aliceOk * 100) - (bobOk * 50), await app.BalanceAsync(b));
        Assert.True(await app.BalanceAsync(a) >= 0);
        Assert.True(await app.BalanceAsync(b) >= 0);
        await app.AssertLedgerOkAsync(admin);

        // Every movement, refused or not, gave its turns in the account queue back when its transaction ended.
        Assert.Equal(0, app.Service<AccountQueue>().ActiveAccounts);
    }

    [Fact]
    public async Task A_cache_entry_that_lies_about_an_account_is_not_believed()
    {
        var (_, victim, thief, source, sink) = await SetupAsync(deposit: 1_000);

        // What someone able to write to the shared cache could store: the victim's account, said to be the thief's,
        // at a version above any real one. A transfer takes owners only from the database (or what this node
        // remembers of it), so the thief is refused as for any account not theirs.
        var lie = new AccountDto(source, thief.Id, "EUR", 1_000, DateTime.UtcNow) { Version = 1_000_000 };
        await app.Service<Groundwork.Platform.Caching.EntityCache>().PutAsync(AccountCache.Kind, source, lie);
        var response = await thief.Client().SendAsync(
            Post("/api/v1/transfers", new { fromAccountId = source, toAccountId = sink, amount = 600 }, Guid.NewGuid().ToString()),
            TestContext.Current.CancellationToken);
        await response.AssertError(404, "NOT_FOUND");
        Assert.Equal(1_000, await app.BalanceAsync(source));
        Assert.Equal(0, await app.BalanceAsync(sink));
        Assert.False(await app.Db(db => db.LedgerTransactions.AnyAsync(t => t.FromAccountId == source && t.Type == TransactionType.Transfer)));

        // Nor did the lie stick anywhere: the real owner still moves their money.
        var own = await victim.Client().SendAsync(
            Post("/api/v1/transfers", new { fromAccountId = source, toAccountId = sink, amount = 100 }, Guid.NewGuid().ToString()),
            TestContext.Current.CancellationToken);
        await own.AssertStatus(201);
        Assert.Equal(900, await app.BalanceAsync(source));
        Assert.Equal(100, await app.BalanceAsync(sink));
    }
}

public sealed class TransferTestsOnSqlite(SqliteApp app) : TransferTests(app), IClassFixture<SqliteApp>;

public sealed class TransferTestsOnPostgres(PostgresApp app) : TransferTests(app), IClassFixture<PostgresApp>;
