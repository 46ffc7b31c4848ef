using Groundwork.Features.Accounts;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Infrastructure;

public static class MoneyHelpers
{
    public static HttpRequestMessage Post(string path, object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return request;
    }

    /// <summary>Opens an EUR account with a client signed in as an admin (server processes, the cluster), funded when <paramref name="deposit"/> is positive.</summary>
    public static async Task<Guid> OpenFundedAccountAsync(this HttpClient admin, long deposit)
    {
        var account = await (await admin.PostAsJsonAsync("/api/v1/accounts", new { currency = "EUR" })).AssertStatus(201);
        var id = Guid.Parse(account["data"]!["id"]!.GetValue<string>());
        if (deposit > 0)
        {
            await (await admin.SendAsync(Post($"/api/v1/accounts/{id}/deposits", new { amount = deposit }, Guid.NewGuid().ToString()))).AssertStatus(201);
        }

        return id;
    }

    public static async Task<Guid> OpenAccountAsync(this Actor owner, string currency = "EUR")
    {
        var body = await (await owner.Client().PostAsJsonAsync("/api/v1/accounts", new { currency })).AssertStatus(201);
        return Guid.Parse(body["data"]!["id"]!.GetValue<string>());
    }

    public static async Task<JsonObject> DepositAsync(this Actor admin, Guid account, long amount)
    {
        var response = await admin.Client().SendAsync(Post($"/api/v1/accounts/{account}/deposits", new { amount }, Guid.NewGuid().ToString()));
        return await response.AssertStatus(201);
    }

    public static async Task<long> BalanceAsync(this GroundworkApp app, Guid account) =>
        await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Accounts.Where(a => a.Id == account).Select(a => a.Balance).SingleAsync());

    public static Task<T> Db<T>(this GroundworkApp app, Func<GroundworkDbContext, Task<T>> query) =>
        app.WithScopeAsync(sp => query(sp.GetRequiredService<GroundworkDbContext>()));

    public static async Task AssertLedgerOkAsync(this GroundworkApp app, Actor admin)
    {
        var report = await (await admin.Client().GetAsync("/api/v1/admin/ledger/verify")).AssertStatus(200);
        Assert.True(report["ok"]!.GetValue<bool>(), report.ToJsonString());
        Assert.Empty(report["violations"]!.AsArray());
        Assert.True(report["checkedAccounts"]!.GetValue<int>() > 0);
    }
}
