using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Features.Webhooks;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Webhooks;

/// <summary>Apps that may deliver to the loopback receiver (the guard's documented switch), with retries quick enough for tests.</summary>
public abstract class WebhookApp : GroundworkApp
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Groundwork:Webhooks:AllowPrivateTargets"] = "true",
        ["Groundwork:Webhooks:FirstRetry"] = "00:00:00.500",
        ["Groundwork:Webhooks:Timeout"] = "00:00:05",
    };
}

public sealed class SqliteWebhookApp : WebhookApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

public sealed class PostgresWebhookApp(PostgresServer server) : WebhookApp
{
    public override Provider Provider => Provider.Postgres;

    protected override Task<string> CreateDatabaseAsync(string folder) => server.CreateDatabaseAsync();
}

public abstract class WebhookTests(GroundworkApp app) : IAsyncLifetime
{
    private readonly WebhookReceiver _receiver = new();

    public ValueTask InitializeAsync() => _receiver.InitializeAsync();

    public ValueTask DisposeAsync() => _receiver.DisposeAsync();

    private async Task<(string Id, string Secret)> RegisterAsync(Actor admin, params string[] events)
    {
        var created = await (await admin.Client().PostAsJsonAsync("/api/v1/webhooks", new { url = _receiver.Url, events, description = "test receiver" })).AssertStatus(201);
        var data = created["data"]!;
        return (data["webhook"]!["id"]!.GetValue<string>(), data["secret"]!.GetValue<string>());
    }

    private static bool IsRename(ReceivedWebhook request, string name) => request.Body.Contains($"\"name\":\"{name}\"", StringComparison.Ordinal);

    [Fact]
    public async Task A_subscribed_event_reaches_the_receiver_signed_and_the_delivery_is_logged()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        var (id, secret) = await RegisterAsync(admin, "user.updated");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var shown = await (await admin.Client().GetAsync($"/api/v1/webhooks/{id}")).AssertStatus(200);
        Assert.Null(shown["data"]!["secret"]);
        Assert.DoesNotContain("whsec_", shown.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, (await (await admin.Client().GetAsync("/api/v1/webhooks")).AssertStatus(200)).ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(["user.updated"], shown["data"]!["events"]!.AsArray().Select(e => e!.GetValue<string>()));

        await user.RenameAsync("Hooked");
        var request = (await _receiver.WaitForAsync(r => IsRename(r, "Hooked"))).Single();
        Assert.True(WebhookReceiver.Verify(request, secret), $"bad signature: {request.Headers["Groundwork-Signature"]}");
        Assert.False(WebhookReceiver.Verify(request, "whsec_someone-else"));
        Assert.False(WebhookReceiver.Verify(request with { Body = request.Body.Replace("Hooked", "Hacked", StringComparison.Ordinal) }, secret));
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal(("user.updated", user.Id.ToString()), (body["type"]!.GetValue<string>(), body["subject"]!.GetValue<string>()));
        Assert.Equal(body["id"]!.GetValue<string>(), request.Headers["Groundwork-Event-Id"]);
        Assert.Equal("user.updated", request.Headers["Groundwork-Event-Type"]);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);

        var log = await WaitForDeliveryAsync(admin, id, body["id"]!.GetValue<string>(), "succeeded");
        Assert.Equal(1, log["attempts"]!.GetValue<int>());
        Assert.Equal(200, log["attemptLog"]![0]!["statusCode"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_failing_receiver_gets_retries_with_growing_delays_and_a_manual_redelivery_sends_again()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        var (id, secret) = await RegisterAsync(admin, "user.updated");
        _receiver.FailNext(3);
        await user.RenameAsync("Retry me");

        var tries = await _receiver.WaitForAsync(r => IsRename(r, "Retry me"), count: 4);
        Assert.All(tries, t => Assert.True(WebhookReceiver.Verify(t, secret)));
        var eventId = JsonNode.Parse(tries[0].Body)!["id"]!.GetValue<string>();
        var log = await WaitForDeliveryAsync(admin, id, eventId, "succeeded");
        var attempts = log["attemptLog"]!.AsArray();
        Assert.Equal([500, 500, 500, 200], attempts.Select(a => a!["statusCode"]!.GetValue<int>()));
        // Each wait is at least the back-off's lower bound (FirstRetry 0.5 s, doubling, -20 % jitter): never sooner.
        var times = attempts.Select(a => a!["attemptedAt"]!.GetValue<DateTime>()).ToList();
        for (var k = 1; k < times.Count; k++)
        {
            var floor = TimeSpan.FromMilliseconds(500 * Math.Pow(2, k - 1) * 0.8);
            Assert.True(times[k] - times[k - 1] >= floor - TimeSpan.FromMilliseconds(5), $"retry {k} came after {(times[k] - times[k - 1]).TotalMilliseconds} ms, before {floor.TotalMilliseconds} ms");
        }

        var deliveryId = log["id"]!.GetValue<string>();
        await (await admin.Client().PostAsync($"/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver", null)).AssertStatus(204);
        await _receiver.WaitForAsync(r => IsRename(r, "Retry me"), count: 5);
        var again = await WaitForDeliveryAsync(admin, id, eventId, "succeeded", attempts: 5);
        Assert.Equal(5, again["attemptLog"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_rotated_secret_signs_alongside_the_old_one_during_the_grace_period()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        var (id, oldSecret) = await RegisterAsync(admin, "user.updated");
        var rotated = await (await admin.Client().PostAsync($"/api/v1/webhooks/{id}/rotate-secret", null)).AssertStatus(200);
        var newSecret = rotated["data"]!["secret"]!.GetValue<string>();
        Assert.NotEqual(oldSecret, newSecret);
        Assert.NotNull(rotated["data"]!["webhook"]!["previousSecretExpiresAt"]);

        await user.RenameAsync("After rotation");
        var request = (await _receiver.WaitForAsync(r => IsRename(r, "After rotation"))).Single();
        Assert.True(WebhookReceiver.Verify(request, newSecret));
        Assert.True(WebhookReceiver.Verify(request, oldSecret));
        Assert.Equal(2, request.Headers["Groundwork-Signature"].Split(',').Count(p => p.StartsWith("v1=", StringComparison.Ordinal)));

        // A second rotation inside the grace period would drop the secret receivers may still use: refused.
        await (await admin.Client().PostAsync($"/api/v1/webhooks/{id}/rotate-secret", null)).AssertError(409, "CONFLICT");
    }

    [Fact]
    public async Task Only_admins_manage_webhooks_and_bad_input_changes_nothing()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        await (await user.Client().GetAsync("/api/v1/webhooks")).AssertError(403, "AUTHORIZATION_ERROR");
        await (await user.Client().PostAsJsonAsync("/api/v1/webhooks", new { url = _receiver.Url, events = new[] { "user.updated" } })).AssertError(403, "AUTHORIZATION_ERROR");
        await (await app.CreateClient().GetAsync("/api/v1/admin/dead-letters")).AssertError(401, "AUTHENTICATION_ERROR");

        var key = await (await admin.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "no webhooks", scopes = new[] { "users:read" } })).AssertStatus(201);
        var keyClient = app.CreateClient();
        keyClient.DefaultRequestHeaders.Add("X-API-Key", key["data"]!["secret"]!.GetValue<string>());
        await (await keyClient.GetAsync("/api/v1/webhooks")).AssertError(403, "AUTHORIZATION_ERROR");

        var before = await app.Db(db => db.Set<Webhook>().CountAsync());
        Assert.Equal(["events"], (await (await admin.Client().PostAsJsonAsync("/api/v1/webhooks", new { url = _receiver.Url, events = new[] { "user.exploded" } })).AssertError(400, "VALIDATION_ERROR")).Fields());
        Assert.Equal(["url"], (await (await admin.Client().PostAsJsonAsync("/api/v1/webhooks", new { url = "ftp://example.com/x", events = new[] { "user.updated" } })).AssertError(400, "VALIDATION_ERROR")).Fields());
        Assert.Equal(["url"], (await (await admin.Client().PostAsJsonAsync("/api/v1/webhooks", new { url = "https://user:pw@example.com/x", events = new[] { "user.updated" } })).AssertError(400, "VALIDATION_ERROR")).Fields());
        await (await admin.Client().GetAsync($"/api/v1/webhooks/{Guid.NewGuid()}")).AssertError(404, "NOT_FOUND");
        Assert.Equal(before, await app.Db(db => db.Set<Webhook>().CountAsync()));
    }

    [Fact]
    public async Task Deleting_a_webhook_stops_its_deliveries()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        var (id, _) = await RegisterAsync(admin, "user.updated");
        await (await admin.Client().DeleteAsync($"/api/v1/webhooks/{id}")).AssertStatus(204);
        await (await admin.Client().GetAsync($"/api/v1/webhooks/{id}")).AssertError(404, "NOT_FOUND");

        // A second webhook proves the event went through the fan-out after the deletion.
        var (other, _) = await RegisterAsync(admin, "user.updated");
        await user.RenameAsync("After deletion");
        var arrived = await _receiver.WaitForAsync(r => IsRename(r, "After deletion"));
        Assert.Single(arrived);
        Assert.Equal(0, await app.Db(db => db.Set<WebhookDelivery>().CountAsync(d => d.WebhookId == Guid.Parse(id))));
        Assert.Equal(1, await app.Db(db => db.Set<WebhookDelivery>().CountAsync(d => d.WebhookId == Guid.Parse(other) && d.EventType == "user.updated" && d.Payload.Contains("After deletion"))));
    }

    private static async Task<JsonObject> WaitForDeliveryAsync(Actor admin, string webhookId, string eventId, string status, int attempts = 1)
    {
        var deadline = DateTime.UtcNow + SseClient.Patience;
        while (true)
        {
            var page = await (await admin.Client().GetAsync($"/api/v1/webhooks/{webhookId}/deliveries?limit=100")).AssertStatus(200);
            if (page["data"]!.AsArray().FirstOrDefault(d => d!["eventId"]!.GetValue<string>() == eventId) is JsonObject delivery
                && delivery["status"]!.GetValue<string>() == status && delivery["attempts"]!.GetValue<int>() >= attempts)
            {
                return delivery;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the delivery of {eventId} never reached {status}: {page.ToJsonString()}");
            await Task.Delay(50);
        }
    }
}

public sealed class WebhookTestsOnSqlite(SqliteWebhookApp app) : WebhookTests(app), IClassFixture<SqliteWebhookApp>;

public sealed class WebhookTestsOnPostgres(PostgresWebhookApp app) : WebhookTests(app), IClassFixture<PostgresWebhookApp>;

/// <summary>The SSRF guard with its default (on): no webhook may point the service at its own network.</summary>
public sealed class WebhookTargetGuardTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[::ffff:192.168.1.1]/hook")]
    [InlineData("http://[64:ff9b::7f00:1]/hook")]
    [InlineData("http://[2002:7f00:1::]/hook")]
    [InlineData("http://[::127.0.0.1]/hook")]
    [InlineData("http://192.0.2.1/hook")]
    [InlineData("http://[2001:db8::1]/hook")]
    [InlineData("https://exa\u202emple.org/hook")]
    [InlineData("https://example.org:0/hook")]
    [InlineData("http://127.0.0.1.:8080/hook")]
    [InlineData("http://localhost./hook")]
    [InlineData("http://LOCALHOST./hook")]
    [InlineData("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/hook")]
    [InlineData("http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/hook")]
    [InlineData("http://localhost\u3002/hook")]
    public async Task Private_loopback_and_link_local_targets_are_refused(string url)
    {
        var admin = await app.ActorAsync(Role.Admin);
        url = System.Text.RegularExpressions.Regex.Unescape(url);
        var refused = await (await admin.Client().PostAsJsonAsync("/api/v1/webhooks", new { url, events = new[] { "user.updated" } })).AssertError(400, "VALIDATION_ERROR");
        Assert.Equal(["url"], refused.Fields());
        Assert.Equal(0, await app.Db(db => db.Set<Webhook>().CountAsync(w => w.Url == url)));
    }

    [Fact]
    public async Task The_connection_is_refused_again_at_send_time_whatever_the_name_resolves_to()
    {
        await using var receiver = new WebhookReceiver();
        await receiver.InitializeAsync();
        using var handler = new SocketsHttpHandler { ConnectCallback = WebhookTargets.Connect(allowPrivate: false), UseProxy = false };
        using var client = new HttpClient(handler);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync($"http://localhost:{receiver.Port}/hooks", new StringContent("{}")));
        Assert.Contains("Refused", refused.Message, StringComparison.Ordinal);
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public void Public_addresses_pass_and_every_inward_range_fails()
    {
        Assert.True(WebhookTargets.IsPublic(System.Net.IPAddress.Parse("93.184.216.34")));
        Assert.True(WebhookTargets.IsPublic(System.Net.IPAddress.Parse("2606:2800:220:1:248:1893:25c8:1946")));
        foreach (var inward in new[] { "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::1",
                     "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:0a00:0001::1", "::7f00:1", "2001:db8::5", "2001:0:4136:e378::1", "203.0.113.9" })
        {
            Assert.False(WebhookTargets.IsPublic(System.Net.IPAddress.Parse(inward)), inward);
        }
    }
}

/// <summary>Attempts may take a minute: a receiver that hangs holds its deliveries that long.</summary>
public sealed class PatientWebhookApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Groundwork:Webhooks:AllowPrivateTargets"] = "true",
        ["Groundwork:Webhooks:Timeout"] = "00:01:00",
    };

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");
}

public sealed class SlowReceiverTests(PatientWebhookApp app) : IClassFixture<PatientWebhookApp>
{
    [Fact]
    public async Task A_receiver_that_hangs_holds_up_only_its_own_deliveries()
    {
        await using var hanging = new WebhookReceiver { Hang = true };
        await using var healthy = new WebhookReceiver();
        await hanging.InitializeAsync();
        await healthy.InitializeAsync();
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        await (await admin.Client().PostAsJsonAsync("/api/v1/webhooks", new { url = hanging.Url, events = new[] { "user.updated" } })).AssertStatus(201);
        await (await admin.Client().PostAsJsonAsync("/api/v1/webhooks", new { url = healthy.Url, events = new[] { "user.updated" } })).AssertStatus(201);

        for (var i = 1; i <= 30; i++)
        {
            await user.RenameAsync($"busy {i}");
        }

        // Every healthy delivery arrives while the hanging receiver still holds its first attempts (a minute each).
        await healthy.WaitForAsync(r => r.Body.Contains("\"busy ", StringComparison.Ordinal), count: 30);
        Assert.InRange(hanging.Received.Count, 1, WebhookSender.MaxInFlightPerWebhook);
    }
}
