using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Features.Audit;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Identity;

/// <summary>The security audit log: sign-ins, refused sign-ins and authorization failures, recorded once each, read by admins.</summary>
public abstract class AuditLogTests(GroundworkApp app)
{
    private static async Task<JsonObject> WaitForEntryAsync(Actor admin, string type, Func<JsonObject, bool> match)
    {
        var deadline = DateTime.UtcNow + SseClient.Patience;
        while (true)
        {
            var page = await (await admin.Client().GetAsync($"/api/v1/admin/audit?type={type}&limit=100")).AssertStatus(200);
            if (page["data"]!.AsArray().OfType<JsonObject>().FirstOrDefault(e => match(e["data"]!.AsObject())) is { } entry)
            {
                return entry;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no {type} entry arrived: {page.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Sign_ins_refused_sign_ins_and_authorization_failures_are_recorded_once_for_admins()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();

        var wrong = await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email.ToUpperInvariant(), password = "not-the-password" });
        await wrong.AssertError(401, "AUTHENTICATION_ERROR");
        var failed = await WaitForEntryAsync(admin, "auth.login_failed", d => d["email"]!.GetValue<string>() == user.Email);
        Assert.False(string.IsNullOrEmpty(failed["data"]!["ip"]!.GetValue<string>()));
        Assert.DoesNotContain("not-the-password", failed.ToJsonString(), StringComparison.Ordinal);

        var succeeded = await WaitForEntryAsync(admin, "auth.login_succeeded", d => d["userId"]!.GetValue<string>() == user.Id.ToString());
        Assert.Equal(user.Id.ToString(), succeeded["subject"]!.GetValue<string>());

        await (await user.Client().GetAsync("/api/v1/webhooks")).AssertError(403, "AUTHORIZATION_ERROR");
        var denied = await WaitForEntryAsync(admin, "auth.access_denied", d => d["userId"]!.GetValue<string>() == user.Id.ToString() && d["operation"]!.GetValue<string>() == "ListWebhooks");
        Assert.Equal(user.Id.ToString(), denied["subject"]!.GetValue<string>());

        // Reading the log is itself admin-only (and a refusal is recorded like any other).
        await (await user.Client().GetAsync("/api/v1/admin/audit")).AssertError(403, "AUTHORIZATION_ERROR");
        await WaitForEntryAsync(admin, "auth.access_denied", d => d["userId"]!.GetValue<string>() == user.Id.ToString() && d["operation"]!.GetValue<string>() == "ListAuditLog");
        Assert.Equal(["type"], (await (await admin.Client().GetAsync("/api/v1/admin/audit?type=order.paid")).AssertError(400, "VALIDATION_ERROR")).Fields());

        // Recorded once per event, whatever the consumer went through.
        var counts = await app.Db(db => db.Set<AuditEntry>().GroupBy(a => a.EventId).Select(g => g.Count()).ToListAsync());
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public async Task Refusals_that_cost_the_caller_nothing_are_not_written()
    {
        var before = await app.Db(db => db.OutboxMessages.CountAsync(m => m.Type.StartsWith("auth.")));
        await (await app.CreateClient().GetAsync("/api/v1/webhooks")).AssertError(401, "AUTHENTICATION_ERROR");
        var forged = app.CreateClient();
        forged.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "forged.token.value");
        await (await forged.GetAsync("/api/v1/admin/audit")).AssertError(401, "AUTHENTICATION_ERROR");
        Assert.Equal(before, await app.Db(db => db.OutboxMessages.CountAsync(m => m.Type.StartsWith("auth."))));
    }
}

public sealed class AuditLogTestsOnSqlite(SqliteApp app) : AuditLogTests(app), IClassFixture<SqliteApp>;

public sealed class AuditLogTestsOnPostgres(PostgresApp app) : AuditLogTests(app), IClassFixture<PostgresApp>;
