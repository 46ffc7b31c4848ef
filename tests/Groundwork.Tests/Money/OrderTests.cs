using Groundwork.Features.Orders;
using Groundwork.Features.Ledger;
using System.Net.Http.Json;
using Groundwork.Features.Accounts;
using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Groundwork.Tests.Infrastructure.MoneyHelpers;

namespace Groundwork.Tests.Money;

public abstract class OrderTests(GroundworkApp app)
{
    private static object Items => new[]
    {
        new { sku = "SKU-1", name = "Widget", quantity = 3, unitPrice = 250 },
        new { sku = "SKU-2", name = "Gadget", quantity = 1, unitPrice = 1_000 },
    };

    private async Task<Guid> CreateOrderAsync(Actor buyer, string currency = "EUR")
    {
        var created = await (await buyer.Client().PostAsJsonAsync($"/api/v1/users/{buyer.Id}/orders", new { currency, items = Items })).AssertStatus(201);
        return Guid.Parse(created["data"]!["id"]!.GetValue<string>());
    }

    private async Task<Guid> HouseAsync(string currency) =>
        await app.Db(db => db.Accounts.Where(a => a.Kind == AccountKind.House && a.Currency == currency).Select(a => a.Id).SingleAsync());

    [Fact]
    public async Task Create_computes_the_total_and_refuses_a_client_total()
    {
        var buyer = await app.ActorAsync();
        var response = await buyer.Client().PostAsJsonAsync($"/api/v1/users/{buyer.Id}/orders", new { currency = "EUR", items = Items });
        var body = await response.AssertStatus(201);
        var data = body["data"]!;
        Assert.Equal(1_750, data["total"]!.GetValue<long>());
        Assert.Equal("pending", data["status"]!.GetValue<string>());
        Assert.Equal(2, data["items"]!.AsArray().Count);
        Assert.Null(data["paidAt"]);
        Assert.Equal($"/api/v1/orders/{data["id"]}", response.Headers.Location!.OriginalString);
        var id = Guid.Parse(data["id"]!.GetValue<string>());
        Assert.True(await app.Db(db => db.OutboxMessages.AnyAsync(m => m.Type == "order.created" && m.Subject == id)));

        var withTotal = await buyer.Client().PostAsJsonAsync($"/api/v1/users/{buyer.Id}/orders", new { currency = "EUR", items = Items, total = 1 });
        Assert.Contains("total", (await withTotal.AssertError(400, "VALIDATION_ERROR")).Fields());
        var noItems = await buyer.Client().PostAsJsonAsync($"/api/v1/users/{buyer.Id}/orders", new { currency = "EUR", items = Array.Empty<object>() });
        Assert.Contains("items", (await noItems.AssertError(400, "VALIDATION_ERROR")).Fields());
        var badItem = await buyer.Client().PostAsJsonAsync($"/api/v1/users/{buyer.Id}/orders", new { currency = "EUR", items = new[] { new { sku = "", name = "x", quantity = 0, unitPrice = -1 } } });
        var fields = (await badItem.AssertError(400, "VALIDATION_ERROR")).Fields().ToList();
        Assert.Contains("items[0].sku", fields);
        Assert.Contains("items[0].quantity", fields);
        Assert.Contains("items[0].unitPrice", fields);
        var badCurrency = await buyer.Client().PostAsJsonAsync($"/api/v1/users/{buyer.Id}/orders", new { currency = "XXX", items = Items });
        Assert.Contains("currency", (await badCurrency.AssertError(400, "VALIDATION_ERROR")).Fields());
        Assert.Equal(1, await app.Db(db => db.Orders.CountAsync(o => o.UserId == buyer.Id)));
    }

    [Fact]
    public async Task Pay_then_cancel_refunds_in_the_same_transaction_and_wrong_states_are_409()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var buyer = await app.ActorAsync();
        var account = await buyer.OpenAccountAsync();
        await admin.DepositAsync(account, 5_000);
        var order = await CreateOrderAsync(buyer);

        await (await buyer.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = account }))).AssertError(400, "VALIDATION_ERROR");
        var key = Guid.NewGuid().ToString();
        var paid = await (await buyer.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = account }, key))).AssertStatus(200);
        Assert.Equal("paid", paid["data"]!["status"]!.GetValue<string>());
        Assert.NotNull(paid["data"]!["paidAt"]);
        Assert.Equal(3_250, await app.BalanceAsync(account));
        Assert.Equal(1_750, await app.BalanceAsync(await HouseAsync("EUR")));

        var replay = await buyer.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = account }, key));
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        await (await buyer.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = account }, Guid.NewGuid().ToString()))).AssertError(409, "CONFLICT");
        Assert.Equal(3_250, await app.BalanceAsync(account));

        var refunded = await (await buyer.Client().PostAsync($"/api/v1/orders/{order}/cancel", null)).AssertStatus(200);
        Assert.Equal("refunded", refunded["data"]!["status"]!.GetValue<string>());
        Assert.Equal(5_000, await app.BalanceAsync(account));
        Assert.Equal(0, await app.BalanceAsync(await HouseAsync("EUR")));
        await (await buyer.Client().PostAsync($"/api/v1/orders/{order}/cancel", null)).AssertError(409, "CONFLICT");

        var types = await app.Db(db => db.OutboxMessages.Where(m => m.Subject == order).OrderBy(m => m.Number).Select(m => m.Type).ToListAsync());
        Assert.Equal(["order.created", "order.paid", "order.refunded"], types);
        var ledger = await app.Db(db => db.LedgerTransactions.Where(t => t.OrderId == order).OrderBy(t => t.CreatedAt).Select(t => t.Type).ToListAsync());
        Assert.Equal([Groundwork.Features.Ledger.TransactionType.Payment, Groundwork.Features.Ledger.TransactionType.Refund], ledger);
        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task Cancelling_a_pending_order_moves_no_money()
    {
        var buyer = await app.ActorAsync();
        var order = await CreateOrderAsync(buyer);
        var cancelled = await (await buyer.Client().PostAsync($"/api/v1/orders/{order}/cancel", null)).AssertStatus(200);
        Assert.Equal("cancelled", cancelled["data"]!["status"]!.GetValue<string>());
        Assert.False(await app.Db(db => db.LedgerTransactions.AnyAsync(t => t.OrderId == order)));
        var account = await buyer.OpenAccountAsync();
        await (await buyer.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = account }, Guid.NewGuid().ToString()))).AssertError(409, "CONFLICT");
    }

    [Fact]
    public async Task Paying_needs_funds_the_right_currency_and_the_buyers_own_account()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var buyer = await app.ActorAsync();
        var other = await app.ActorAsync();
        var order = await CreateOrderAsync(buyer);
        var usd = await buyer.OpenAccountAsync("USD");
        await admin.DepositAsync(usd, 10_000);
        var poor = await buyer.OpenAccountAsync();
        await admin.DepositAsync(poor, 10);
        var othersAccount = await other.OpenAccountAsync();
        await admin.DepositAsync(othersAccount, 10_000);

        await (await buyer.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = usd }, Guid.NewGuid().ToString()))).AssertError(422, "CURRENCY_MISMATCH");
        // The balance check runs last, at the commit point, after the order was claimed and its event written:
        // the refusal must take those back too, and keep no idempotency record.
        var poorKey = Guid.NewGuid().ToString();
        await (await buyer.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = poor }, poorKey))).AssertError(422, "INSUFFICIENT_FUNDS");
        Assert.False(await app.Db(db => db.OutboxMessages.AnyAsync(m => m.Subject == order && m.Type == "order.paid")));
        Assert.False(await app.Db(db => db.IdempotencyRecords.AnyAsync(r => r.Key == poorKey)));
        Assert.Equal(OrderStatus.Pending, await app.Db(db => db.Orders.Where(o => o.Id == order).Select(o => o.Status).SingleAsync()));
        await (await buyer.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = othersAccount }, Guid.NewGuid().ToString()))).AssertError(404, "NOT_FOUND");
        await (await other.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = othersAccount }, Guid.NewGuid().ToString()))).AssertError(404, "NOT_FOUND");
        await (await admin.Client().SendAsync(Post($"/api/v1/orders/{order}/pay", new { accountId = othersAccount }, Guid.NewGuid().ToString()))).AssertError(403, "AUTHORIZATION_ERROR");

        var unchanged = await (await buyer.Client().GetAsync($"/api/v1/orders/{order}")).AssertStatus(200);
        Assert.Equal("pending", unchanged["data"]!["status"]!.GetValue<string>());
        Assert.Equal(10, await app.BalanceAsync(poor));
        Assert.Equal(10_000, await app.BalanceAsync(usd));
        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task Orders_are_visible_to_their_owner_and_admins_only()
    {
        var buyer = await app.ActorAsync();
        var other = await app.ActorAsync();
        var moderator = await app.ActorAsync(Role.Moderator);
        var admin = await app.ActorAsync(Role.Admin);
        var order = await CreateOrderAsync(buyer);

        await (await other.Client().GetAsync($"/api/v1/orders/{order}")).AssertError(404, "NOT_FOUND");
        await (await moderator.Client().GetAsync($"/api/v1/orders/{order}")).AssertError(404, "NOT_FOUND");
        await (await admin.Client().GetAsync($"/api/v1/orders/{order}")).AssertStatus(200);
        await (await other.Client().GetAsync($"/api/v1/users/{buyer.Id}/orders")).AssertError(404, "NOT_FOUND");
        await (await other.Client().PostAsJsonAsync($"/api/v1/users/{buyer.Id}/orders", new { currency = "EUR", items = Items })).AssertError(404, "NOT_FOUND");
        await (await other.Client().PostAsync($"/api/v1/orders/{order}/cancel", null)).AssertError(404, "NOT_FOUND");

        var list = await (await buyer.Client().GetAsync($"/api/v1/users/{buyer.Id}/orders?status=pending")).AssertStatus(200);
        Assert.Equal(order.ToString(), list["data"]!.AsArray().Single()!["id"]!.GetValue<string>());
        var none = await (await admin.Client().GetAsync($"/api/v1/users/{buyer.Id}/orders?status=paid")).AssertStatus(200);
        Assert.Empty(none["data"]!.AsArray());
        await (await buyer.Client().GetAsync($"/api/v1/users/{buyer.Id}/orders?status=shipped")).AssertError(400, "VALIDATION_ERROR");
        // A list of statuses is not a status: "paid,cancelled" read as Paid | Cancelled, which is Refunded's value.
        foreach (var status in new[] { "paid,cancelled", "pending,%20paid", "%20pending", "0" })
        {
            var error = await (await buyer.Client().GetAsync($"/api/v1/users/{buyer.Id}/orders?status={status}")).AssertError(400, "VALIDATION_ERROR");
            Assert.Equal("status", Assert.Single(error.Fields()));
        }

        var anyCase = await (await buyer.Client().GetAsync($"/api/v1/users/{buyer.Id}/orders?status=Pending")).AssertStatus(200);
        Assert.Single(anyCase["data"]!.AsArray());
    }

    [Fact]
    public async Task Create_order_honours_an_idempotency_key()
    {
        var buyer = await app.ActorAsync();
        var key = Guid.NewGuid().ToString();
        var first = await buyer.Client().SendAsync(Post($"/api/v1/users/{buyer.Id}/orders", new { currency = "EUR", items = Items }, key));
        var again = await buyer.Client().SendAsync(Post($"/api/v1/users/{buyer.Id}/orders", new { currency = "EUR", items = Items }, key));
        Assert.Equal(201, (int)first.StatusCode);
        Assert.Equal(201, (int)again.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal(1, await app.Db(db => db.Orders.CountAsync(o => o.UserId == buyer.Id)));
    }
}

public sealed class OrderTestsOnSqlite(SqliteApp app) : OrderTests(app), IClassFixture<SqliteApp>;

public sealed class OrderTestsOnPostgres(PostgresApp app) : OrderTests(app), IClassFixture<PostgresApp>;
