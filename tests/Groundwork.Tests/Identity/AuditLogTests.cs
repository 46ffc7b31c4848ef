using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Features.Audit;
using Groundwork.Features.Auth;
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

    /// <summary>A refresh token presented again after its rotation revokes the session, and the audit log says so.</summary>
    [Fact]
    public async Task A_reused_refresh_token_is_recorded_with_the_session_it_revoked()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        var client = app.CreateClient();
        await (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken })).AssertStatus(200);
        await (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken })).AssertError(401, "AUTHENTICATION_ERROR");

        var sessionId = await app.Db(db => db.Sessions.Where(s => s.UserId == user.Id).Select(s => new { s.Id, s.RevokedAt }).SingleAsync());
        Assert.NotNull(sessionId.RevokedAt);
        var reused = await WaitForEntryAsync(admin, "auth.refresh_token_reused", d => d["userId"]!.GetValue<string>() == user.Id.ToString());
        Assert.Equal(sessionId.Id.ToString(), reused["data"]!["sessionId"]!.GetValue<string>());
        Assert.Equal(user.Id.ToString(), reused["subject"]!.GetValue<string>());
        Assert.DoesNotContain(user.RefreshToken, reused.ToJsonString(), StringComparison.Ordinal);
        var filtered = await (await admin.Client().GetAsync("/api/v1/admin/audit?type=auth.refresh_token_reused")).AssertStatus(200);
        Assert.Contains(filtered["data"]!.AsArray(), e => e!["subject"]!.GetValue<string>() == user.Id.ToString());
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

/// <summary>What is kept only for a while goes when its time is up, and nothing younger goes with it.</summary>
public abstract class RetentionTests(GroundworkApp app)
{
    [Fact]
    public async Task Old_audit_entries_and_finished_deliveries_are_deleted_and_the_rest_kept()
    {
        var now = DateTime.UtcNow;
        var webhook = new Groundwork.Features.Webhooks.Webhook { Url = "https://example.org/hook", Events = "user.updated", ProtectedSecret = "unused", CreatedAt = now, UpdatedAt = now };
        Groundwork.Features.Webhooks.WebhookDelivery Delivery(Groundwork.Features.Webhooks.DeliveryStatus status, DateTime? completed) => new()
        {
            WebhookId = webhook.Id, EventId = Guid.NewGuid(), EventType = "user.updated", Payload = "{}", Status = status,
            NextAttemptAt = now, CreatedAt = now.AddDays(-45), RetryFrom = now.AddDays(-45), CompletedAt = completed,
        };
        var oldDone = Delivery(Groundwork.Features.Webhooks.DeliveryStatus.Succeeded, now.AddDays(-40));
        var recentDone = Delivery(Groundwork.Features.Webhooks.DeliveryStatus.Failed, now.AddDays(-2));
        var stillPending = Delivery(Groundwork.Features.Webhooks.DeliveryStatus.Pending, null);
        var oldEntry = new AuditEntry { EventId = Guid.NewGuid(), Sequence = -2, Type = "auth.login_failed", OccurredAt = now.AddDays(-100), Data = "{}" };
        var recentEntry = new AuditEntry { EventId = Guid.NewGuid(), Sequence = -1, Type = "auth.login_failed", OccurredAt = now.AddDays(-10), Data = "{}" };
        await app.Db(async db =>
        {
            db.Add(webhook);
            db.AddRange(oldDone, recentDone, stillPending);
            db.Add(new Groundwork.Features.Webhooks.WebhookAttempt { DeliveryId = oldDone.Id, AttemptedAt = now.AddDays(-40), StatusCode = 200 });
            db.AddRange(oldEntry, recentEntry);
            return await db.SaveChangesAsync();
        });

        await app.Service<Groundwork.Platform.Hosting.RetentionJob>().RunAsync(CancellationToken.None);

        var deliveries = await app.Db(db => db.Set<Groundwork.Features.Webhooks.WebhookDelivery>().Where(d => d.WebhookId == webhook.Id).Select(d => d.Id).ToListAsync());
        Assert.Equal(new[] { recentDone.Id, stillPending.Id }.Order(), deliveries.Order());
        Assert.False(await app.Db(db => db.Set<Groundwork.Features.Webhooks.WebhookAttempt>().AnyAsync(a => a.DeliveryId == oldDone.Id)));
        var entries = await app.Db(db => db.Set<AuditEntry>().Where(a => a.Id == oldEntry.Id || a.Id == recentEntry.Id).Select(a => a.Id).ToListAsync());
        Assert.Equal([recentEntry.Id], entries);
    }
}

public sealed class RetentionTestsOnSqlite(SqliteApp app) : RetentionTests(app), IClassFixture<SqliteApp>;

public sealed class RetentionTestsOnPostgres(PostgresApp app) : RetentionTests(app), IClassFixture<PostgresApp>;

public sealed class AuditLogTestsOnSqlite(SqliteApp app) : AuditLogTests(app), IClassFixture<SqliteApp>;

public sealed class AuditLogTestsOnPostgres(PostgresApp app) : AuditLogTests(app), IClassFixture<PostgresApp>;
