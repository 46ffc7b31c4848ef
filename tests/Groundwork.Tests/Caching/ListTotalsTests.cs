using System.Net.Http.Json;
using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Caching;

public sealed class ListTotalsTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task A_list_total_is_counted_once_and_stays_exact_after_every_write()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var client = admin.Client();
        const string url = "/api/v1/users?limit=1&q=totals-";
        async Task<int> TotalAsync() => (await (await client.GetAsync(url)).AssertStatus(200))["meta"]!["total"]!.GetValue<int>();

        var before = await TotalAsync();
        app.Sql.Counted = sql => sql.Contains("COUNT(*)", StringComparison.OrdinalIgnoreCase);
        app.Sql.Reset();
        Assert.Equal(before, await TotalAsync());
        Assert.Equal(0, app.Sql.Count);

        // Each acknowledged write changes the next total, however the list changed: sign-up, edit, deletion.
        var register = await app.CreateClient().PostAsJsonAsync("/api/v1/auth/register",
            new { email = GroundworkApp.UniqueEmail("totals-"), name = "T", password = "long-enough-1" });
        var created = (await register.AssertStatus(201))["data"]!["id"]!.GetValue<string>();
        Assert.Equal(before + 1, await TotalAsync());

        var other = await app.ActorAsync(name: "Someone");
        await (await client.PatchAsJsonAsync($"/api/v1/users/{other.Id}", new { name = "totals-renamed" })).AssertStatus(200);
        Assert.Equal(before + 2, await TotalAsync());

        await (await client.DeleteAsync($"/api/v1/users/{created}")).AssertStatus(204);
        Assert.Equal(before + 1, await TotalAsync());
        Assert.Equal(3, app.Sql.Count);
    }
}
