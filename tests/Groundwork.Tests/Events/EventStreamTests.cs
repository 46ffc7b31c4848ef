using System.Net.Http.Json;
using Groundwork.Features.Auth;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Realtime;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Events;

/// <summary>
/// The SSE stream (<c>GET /api/v1/events</c>): who receives which events, replay with <c>Last-Event-ID</c>, and
/// refusals. "Did not receive" is always asserted against a later event the same stream did receive: streams are
/// in sequence order, so an event committed earlier would have arrived first.
/// </summary>
public abstract class EventStreamTests(GroundworkApp app)
{
    private static bool IsUpdateOf(SseEvent e, Actor who, string name) =>
        e.Type == "user.updated" && e.Data["subject"]!.GetValue<string>() == who.Id.ToString() && e.Data["data"]!["name"]!.GetValue<string>() == name;

    [Fact]
    public async Task A_subscriber_receives_its_own_events_and_public_ones_but_never_another_users_private_events()
    {
        var alice = await app.ActorAsync();
        var bob = await app.ActorAsync();
        await using var stream = await SseClient.OpenAsync(alice.Client(), "?types=user.updated,post.published,post.unpublished");

        await bob.RenameAsync("Bob private");
        var post = await (await bob.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Hello", content = "World" })).AssertStatus(201);
        var postId = post["data"]!["id"]!.GetValue<string>();
        await (await bob.Client().PostAsync($"/api/v1/posts/{postId}/publish", null)).AssertStatus(200);
        await (await bob.Client().PostAsync($"/api/v1/posts/{postId}/unpublish", null)).AssertStatus(200);
        await alice.RenameAsync("Alice renamed");

        var (mine, before) = await stream.NextMatchingAsync(e => IsUpdateOf(e, alice, "Alice renamed"));
        // Bob's rename and his post's unpublication came before Alice's rename and were not for her; the publication was.
        var published = Assert.Single(before);
        Assert.Equal(("post.published", postId), (published.Type, published.Data["subject"]!.GetValue<string>()));
        Assert.Equal("Hello", published.Data["data"]!["title"]!.GetValue<string>());
        Assert.True(published.Id < mine.Id);
        Assert.Equal(mine.Id, mine.Data["sequence"]!.GetValue<long>());
        foreach (var field in new[] { "id", "type", "occurredAt", "subject", "sequence", "data" })
        {
            Assert.NotNull(mine.Data[field]);
        }

        Assert.DoesNotContain("password", mine.Data.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Staff_see_posts_taken_down_and_admins_see_every_users_changes()
    {
        var author = await app.ActorAsync();
        var moderator = await app.ActorAsync(Role.Moderator);
        var admin = await app.ActorAsync(Role.Admin);
        await using var moderatorStream = await SseClient.OpenAsync(moderator.Client(), "?types=post.unpublished,user.updated");
        await using var adminStream = await SseClient.OpenAsync(admin.Client(), "?types=user.updated");

        await author.RenameAsync("Author renamed");
        var post = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "T", content = "C" })).AssertStatus(201);
        var postId = post["data"]!["id"]!.GetValue<string>();
        await (await author.Client().PostAsync($"/api/v1/posts/{postId}/publish", null)).AssertStatus(200);
        await (await author.Client().PostAsync($"/api/v1/posts/{postId}/unpublish", null)).AssertStatus(200);

        var (takenDown, beforeTakenDown) = await moderatorStream.NextMatchingAsync(e => e.Type == "post.unpublished" && e.Data["subject"]!.GetValue<string>() == postId);
        Assert.DoesNotContain(beforeTakenDown, e => e.Type == "user.updated" && e.Data["subject"]!.GetValue<string>() == author.Id.ToString());
        Assert.Equal(author.Id.ToString(), takenDown.Data["data"]!["authorId"]!.GetValue<string>());
        var (renamed, _) = await adminStream.NextMatchingAsync(e => IsUpdateOf(e, author, "Author renamed"));
        Assert.True(renamed.Id < takenDown.Id);
    }

    [Fact]
    public async Task Money_events_reach_both_account_holders_and_nobody_else()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var payer = await app.ActorAsync();
        var payee = await app.ActorAsync();
        var stranger = await app.ActorAsync();
        var from = await payer.OpenAccountAsync();
        var to = await payee.OpenAccountAsync();
        await admin.DepositAsync(from, 10_000);
        const string types = "?types=transfer.completed,account.debited,account.credited,user.updated";
        await using var payerStream = await SseClient.OpenAsync(payer.Client(), types);
        await using var payeeStream = await SseClient.OpenAsync(payee.Client(), types);
        await using var strangerStream = await SseClient.OpenAsync(stranger.Client(), types);

        var transfer = await (await payer.Client().SendAsync(MoneyHelpers.Post("/api/v1/transfers",
            new { fromAccountId = from, toAccountId = to, amount = 2_500 }, Guid.NewGuid().ToString()))).AssertStatus(201);
        var transferId = transfer["data"]!["id"]!.GetValue<string>();
        Assert.NotNull(transferId);
        await payer.RenameAsync("payer done");
        await payee.RenameAsync("payee done");
        await stranger.RenameAsync("stranger done");

        // A stream opened without Last-Event-ID starts after the newest numbered event, so the deposit (committed
        // just before, possibly numbered just after) may come too: only the transfer's events are compared.
        static List<SseEvent> OfTransfer(List<SseEvent> events, string id) =>
            events.Where(e => e.Data["subject"]!.GetValue<string>() == id || e.Data["data"]!["transactionId"]?.GetValue<string>() == id).ToList();
        var payerSaw = OfTransfer((await payerStream.NextMatchingAsync(e => IsUpdateOf(e, payer, "payer done"))).Before, transferId);
        var payeeSaw = OfTransfer((await payeeStream.NextMatchingAsync(e => IsUpdateOf(e, payee, "payee done"))).Before, transferId);
        var (_, strangerSaw) = await strangerStream.NextMatchingAsync(e => IsUpdateOf(e, stranger, "stranger done"));
        Assert.Equal(["transfer.completed", "account.debited"], payerSaw.Select(e => e.Type));
        Assert.Equal(["transfer.completed", "account.credited"], payeeSaw.Select(e => e.Type));
        Assert.Empty(strangerSaw);
        Assert.Equal(transferId, payerSaw[0].Data["subject"]!.GetValue<string>());
        Assert.Equal(2_500, payerSaw[1].Data["data"]!["amount"]!.GetValue<long>());
        Assert.Equal(from.ToString(), payerSaw[1].Data["subject"]!.GetValue<string>());
        Assert.Equal(to.ToString(), payeeSaw[1].Data["subject"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reconnecting_with_Last_Event_ID_replays_exactly_what_was_missed_in_order_then_continues_live()
    {
        var user = await app.ActorAsync();
        long lastSeen;
        await using (var first = await SseClient.OpenAsync(user.Client(), "?types=user.updated"))
        {
            await user.RenameAsync("before");
            lastSeen = (await first.NextMatchingAsync(e => IsUpdateOf(e, user, "before"))).Match.Id;
        }

        for (var i = 1; i <= 50; i++)
        {
            await user.RenameAsync($"missed {i}");
        }

        await using var again = await SseClient.OpenAsync(user.Client(), "?types=user.updated", lastEventId: lastSeen);
        var replayed = new List<SseEvent>();
        for (var i = 1; i <= 50; i++)
        {
            replayed.Add(await again.NextAsync());
        }

        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"missed {i}"), replayed.Select(e => e.Data["data"]!["name"]!.GetValue<string>()));
        Assert.All(replayed, e => Assert.Equal(user.Id.ToString(), e.Data["subject"]!.GetValue<string>()));
        Assert.True(replayed.Zip(replayed.Skip(1)).All(p => p.First.Id < p.Second.Id));
        Assert.True(replayed[0].Id > lastSeen);

        await user.RenameAsync("live again");
        var next = await again.NextAsync();
        Assert.True(IsUpdateOf(next, user, "live again"), $"expected the live event next, got {next.Data.ToJsonString()}");
    }

    [Fact]
    public async Task Every_event_gets_a_gap_free_sequence_in_commit_order_and_is_marked_published()
    {
        var user = await app.ActorAsync();
        await using var stream = await SseClient.OpenAsync(user.Client(), "?types=user.updated");
        for (var i = 1; i <= 10; i++)
        {
            await user.RenameAsync($"seq {i}");
        }

        await stream.NextMatchingAsync(e => IsUpdateOf(e, user, "seq 10"));
        await app.Service<OutboxRelay>().RelayAsync(CancellationToken.None);
        var rows = await app.Db(db => db.OutboxMessages.AsNoTracking().OrderBy(m => m.Sequence).ToListAsync());
        Assert.All(rows, r => Assert.NotNull(r.Sequence));
        Assert.All(rows, r => Assert.NotNull(r.PublishedAt));
        var sequences = rows.Select(r => r.Sequence!.Value).ToList();
        Assert.Equal(Enumerable.Range((int)sequences[0], sequences.Count).Select(n => (long)n), sequences);
        var mine = rows.Where(r => r.Subject == user.Id && r.Type == "user.updated").ToList();
        Assert.Equal(mine.OrderBy(r => r.Number).Select(r => r.Id), mine.Select(r => r.Id));
    }

    [Fact]
    public async Task Idle_streams_get_keep_alives_and_end_when_the_session_is_revoked()
    {
        var user = await app.ActorAsync();
        await using var stream = await SseClient.OpenAsync(user.Client());
        while (stream.KeepAlives < 2)
        {
            await Task.WhenAny(stream.Ended, Task.Delay(50, TestContext.Current.CancellationToken));
            Assert.False(stream.Ended.IsCompleted, "the stream ended while the session was live");
        }

        await (await user.Client().PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = user.RefreshToken })).AssertStatus(204);
        Assert.Same(stream.Ended, await Task.WhenAny(stream.Ended, Task.Delay(SseClient.Patience, TestContext.Current.CancellationToken)));
        await (await SseClient.SendAsync(user.Client())).AssertError(401, "AUTHENTICATION_ERROR");
    }

    /// <summary>
    /// A replay reads only the stored events its caller may see (the database applies the audience), and exactly
    /// those: a user gets public events and their own, a moderator also posts taken down, an admin everything.
    /// </summary>
    [Fact]
    public async Task A_replay_gives_each_caller_exactly_the_stored_events_it_may_see()
    {
        var alice = await app.ActorAsync();
        var bob = await app.ActorAsync();
        var moderator = await app.ActorAsync(Role.Moderator);
        var admin = await app.ActorAsync(Role.Admin);
        var relay = app.Service<OutboxRelay>();
        await relay.RelayAsync(CancellationToken.None);
        var before = await app.Db(db => db.OutboxMessages.MaxAsync(m => m.Sequence)) ?? 0;

        await bob.RenameAsync("Bob, replayed");
        var post = (await (await bob.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Replayed", content = "C" })).AssertStatus(201))["data"]!["id"]!.GetValue<string>();
        await (await bob.Client().PostAsync($"/api/v1/posts/{post}/publish", null)).AssertStatus(200);
        await (await bob.Client().PostAsync($"/api/v1/posts/{post}/unpublish", null)).AssertStatus(200);
        await alice.RenameAsync("Alice, replayed");
        // The last one, public: every replay below has reached the end of what was stored once it arrives.
        var last = (await (await alice.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Last", content = "C" })).AssertStatus(201))["data"]!["id"]!.GetValue<string>();
        await (await alice.Client().PostAsync($"/api/v1/posts/{last}/publish", null)).AssertStatus(200);
        await relay.RelayAsync(CancellationToken.None);

        async Task<List<(string, string)>> ReplayFor(Actor who)
        {
            await using var stream = await SseClient.OpenAsync(who.Client(), "?types=user.updated,post.published,post.unpublished", lastEventId: before);
            var (_, earlier) = await stream.NextMatchingAsync(e => e.Type == "post.published" && e.Data["subject"]!.GetValue<string>() == last);
            return [.. earlier.Select(e => (e.Type, e.Data["subject"]!.GetValue<string>()))];
        }

        var (bobId, aliceId) = (bob.Id.ToString(), alice.Id.ToString());
        Assert.Equal([("post.published", post), ("user.updated", aliceId)], await ReplayFor(alice));
        Assert.Equal([("user.updated", bobId), ("post.published", post), ("post.unpublished", post)], await ReplayFor(bob));
        Assert.Equal([("post.published", post), ("post.unpublished", post)], await ReplayFor(moderator));
        Assert.Equal([("user.updated", bobId), ("post.published", post), ("post.unpublished", post), ("user.updated", aliceId)], await ReplayFor(admin));
    }

    /// <summary>
    /// Every keep-alive follows a fresh check of the credential. The stream's clock stands still here, so only that
    /// rule can end it: the heartbeat's timer may fire a little before the clock says an interval has passed, and a
    /// stream whose check went by the clock alone sent one more keep-alive (and any events meanwhile) after a revocation.
    /// </summary>
    [Fact]
    public async Task No_keep_alive_is_sent_after_the_session_is_revoked_whatever_the_clock_reads()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var user = await app.ActorAsync();
        var sessionId = await app.Db(db => db.Sessions.Where(s => s.UserId == user.Id).Select(s => s.Id).SingleAsync());
        var caller = new Groundwork.Platform.Operations.Caller { UserId = user.Id, SessionId = sessionId, Scopes = Scopes.All };
        var stream = new EventStream(app.Service<EventHub>(), app.Service<IServiceScopeFactory>(),
            app.Service<CredentialCheck>(), app.Service<Groundwork.Platform.Configuration.GroundworkSettings>(), new StillClock());
        using var selection = new EventSelection(caller, new HashSet<string> { "user.updated" }, After: null);
        await using var reader = stream.ReadAsync(selection, () => Task.CompletedTask, cancellation).GetAsyncEnumerator(cancellation);

        Assert.True(await reader.MoveNextAsync());
        Assert.Null(reader.Current);
        await (await user.Client().PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = user.RefreshToken })).AssertStatus(204);
        Assert.False(await reader.MoveNextAsync(), "a keep-alive was sent after the session was revoked");
    }

    private sealed class StillClock : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;
    }

    [Fact]
    public async Task Bad_requests_are_refused_in_the_error_format_before_anything_streams()
    {
        var user = await app.ActorAsync();
        await (await SseClient.SendAsync(app.CreateClient())).AssertError(401, "AUTHENTICATION_ERROR");
        var unknownType = await (await SseClient.SendAsync(user.Client(), "?types=order.paid,order.exploded")).AssertError(400, "VALIDATION_ERROR");
        Assert.Contains("order.exploded", unknownType["details"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["types"], (await (await SseClient.SendAsync(user.Client(), "?types=")).AssertError(400, "VALIDATION_ERROR")).Fields());
        Assert.Equal(["pgae"], (await (await SseClient.SendAsync(user.Client(), "?pgae=1")).AssertError(400, "VALIDATION_ERROR")).Fields());
        Assert.Equal(["after"], (await (await SseClient.SendAsync(user.Client(), "?after=soon")).AssertError(400, "VALIDATION_ERROR")).Fields());
        var badHeader = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events");
        badHeader.Headers.TryAddWithoutValidation("Last-Event-ID", "12abc");
        Assert.Equal(["Last-Event-ID"], (await (await user.Client().SendAsync(badHeader)).AssertError(400, "VALIDATION_ERROR")).Fields());
        Assert.Equal(["lastEventId"], (await (await SseClient.SendAsync(user.Client(), "?after=-1")).AssertError(400, "VALIDATION_ERROR")).Fields());
        await (await SseClient.SendAsync(user.Client(), lastEventId: long.MaxValue)).AssertError(409, "CONFLICT");

        // An API key reads only the events of the resources its scopes cover.
        var key = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "posts only", scopes = new[] { "posts:read" } })).AssertStatus(201);
        var keyClient = app.CreateClient();
        keyClient.DefaultRequestHeaders.Add("X-API-Key", key["data"]!["secret"]!.GetValue<string>());
        var forbidden = await (await SseClient.SendAsync(keyClient, "?types=order.paid")).AssertError(403, "AUTHORIZATION_ERROR");
        Assert.Contains("orders:read", forbidden["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await using var allowed = await SseClient.OpenAsync(keyClient, "?types=post.published");
    }

    [Fact]
    public async Task A_position_older_than_what_is_kept_is_refused_with_a_clear_error()
    {
        var user = await app.ActorAsync();
        await user.RenameAsync("to be pruned");
        var relay = app.Service<OutboxRelay>();
        await relay.RelayAsync(CancellationToken.None);
        await relay.PruneAsync(DateTime.UtcNow.AddHours(1), CancellationToken.None);
        var oldest = await app.Db(db => db.OutboxMessages.MinAsync(m => m.Sequence));
        Assert.True(oldest > 1, "pruning kept everything");

        var error = await (await SseClient.SendAsync(user.Client(), lastEventId: 0)).AssertError(409, "CONFLICT");
        Assert.Contains("no longer kept", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        // Just before the oldest kept event nothing is missing: that still resumes.
        await using var resumed = await SseClient.OpenAsync(user.Client(), lastEventId: oldest!.Value - 1);
    }
}

public sealed class EventStreamTestsOnSqlite(SqliteApp app) : EventStreamTests(app), IClassFixture<SqliteApp>;

public sealed class EventStreamTestsOnPostgres(PostgresApp app) : EventStreamTests(app), IClassFixture<PostgresApp>;
