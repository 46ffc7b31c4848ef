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
        const string url = "/api/v1/users?limit=1&role=user";
        async Task<int> TotalAsync() => (await (await client.GetAsync(url)).AssertStatus(200))["meta"]!["total"]!.GetValue<int>();

        var before = await TotalAsync();
        app.Sql.Counted = sql => sql.Contains("COUNT(*)", StringComparison.OrdinalIgnoreCase);
        app.Sql.Reset();
        Assert.Equal(before, await TotalAsync());
        Assert.Equal(0, app.Sql.Count);

        // Each acknowledged write changes the next total, however the list changed: sign-up, a user created by
        // an admin tool, a role change that moves a user out of the filter, a deletion.
        var register = await app.CreateClient().PostAsJsonAsync("/api/v1/auth/register",
            new { email = GroundworkApp.UniqueEmail("totals-"), name = "T", password = "long-enough-1" });
        var created = (await register.AssertStatus(201))["data"]!["id"]!.GetValue<string>();
        Assert.Equal(before + 1, await TotalAsync());

        var other = await app.ActorAsync(name: "Someone");
        Assert.Equal(before + 2, await TotalAsync());

        await (await client.PatchAsJsonAsync($"/api/v1/users/{other.Id}", new { role = "moderator" })).AssertStatus(200);
        Assert.Equal(before + 1, await TotalAsync());

        await (await client.DeleteAsync($"/api/v1/users/{created}")).AssertStatus(204);
        Assert.Equal(before, await TotalAsync());
        Assert.Equal(before, await TotalAsync());
        Assert.Equal(4, app.Sql.Count);

        // Free-text searches are counted every time (no cache entry per search text).
        app.Sql.Reset();
        await (await client.GetAsync("/api/v1/users?limit=1&q=someone")).AssertStatus(200);
        await (await client.GetAsync("/api/v1/users?limit=1&q=someone")).AssertStatus(200);
        Assert.Equal(2, app.Sql.Count);
    }
}
