using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Users;

public abstract class UserEventsTests(GroundworkApp app)
{
    private Task<List<OutboxMessage>> EventsOfAsync(Guid userId) =>
        app.Db(db => db.Set<OutboxMessage>().Where(m => m.Subject == userId && m.Type.StartsWith("user.")).OrderBy(m => m.Number).ToListAsync());

    [Fact]
    public async Task Sign_up_edit_and_deletion_each_write_their_event_in_the_same_transaction()
    {
        var email = GroundworkApp.UniqueEmail("events");
        var created = await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/register", new { email, name = "Eve", password = "long-enough-1" })).AssertStatus(201);
        var id = Guid.Parse(created["data"]!["id"]!.GetValue<string>());
        var admin = await app.ActorAsync(Role.Admin);

        await (await admin.Client().PatchAsJsonAsync($"/api/v1/users/{id}", new { name = "Eve Two" })).AssertStatus(200);
        await (await admin.Client().DeleteAsync($"/api/v1/users/{id}")).AssertStatus(204);

        var events = await EventsOfAsync(id);
        Assert.Equal(["user.created", "user.updated", "user.deleted"], events.Select(e => e.Type));
        Assert.True(events[0].Number < events[1].Number && events[1].Number < events[2].Number);
        var createdData = JsonNode.Parse(events[0].Data)!;
        Assert.Equal((email, "Eve"), (createdData["email"]!.GetValue<string>(), createdData["name"]!.GetValue<string>()));
        Assert.DoesNotContain("password", events[0].Data, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("Eve Two", JsonNode.Parse(events[1].Data)!["name"]!.GetValue<string>());
        Assert.Equal(id, Guid.Parse(JsonNode.Parse(events[2].Data)!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_refused_change_writes_no_event()
    {
        var user = await app.ActorAsync();
        var other = await app.ActorAsync();
        var before = (await EventsOfAsync(other.Id)).Count;

        await (await user.Client().PatchAsJsonAsync($"/api/v1/users/{other.Id}", new { name = "Hijack" })).AssertError(404, "NOT_FOUND");
        await (await other.Client().PatchAsJsonAsync($"/api/v1/users/{other.Id}", new { email = user.Email })).AssertError(409, "CONFLICT");

        Assert.Equal(before, (await EventsOfAsync(other.Id)).Count);
    }
}

public sealed class UserEventsTestsOnSqlite(SqliteApp app) : UserEventsTests(app), IClassFixture<SqliteApp>;

public sealed class UserEventsTestsOnPostgres(PostgresApp app) : UserEventsTests(app), IClassFixture<PostgresApp>;
