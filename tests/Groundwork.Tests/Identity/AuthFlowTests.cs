using Groundwork.Platform.Auth;
using Groundwork.Features.Users;
using Groundwork.Features.Auth;
using System.Net.Http.Json;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Identity;

public abstract class AuthFlowTests(GroundworkApp app)
{
    private async Task<int> CountAsync(Func<GroundworkDbContext, Task<int>> query) =>
        await app.WithScopeAsync(sp => query(sp.GetRequiredService<GroundworkDbContext>()));

    [Fact]
    public async Task A_revoked_sessions_cached_status_is_dropped_only_once_the_revocation_commits()
    {
        var user = await app.ActorAsync();
        var sessionId = await app.Db(db => db.Sessions.Where(s => s.UserId == user.Id).Select(s => s.Id).SingleAsync());
        var status = app.Service<SessionStatus>();
        Assert.NotNull(await status.GetActiveAsync(sessionId, CancellationToken.None));
        Assert.True(status.IsCached(sessionId));

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        var hooks = scope.ServiceProvider.GetRequiredService<Groundwork.Platform.Operations.CommitHooks>();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await scope.ServiceProvider.GetRequiredService<SessionRevocation>().RevokeAsync(sessionId, "test", CancellationToken.None);
            // Not committed: dropping the cached answer now would let a concurrent request re-read the still-live
            // row and cache the session as alive again, after the revocation was acknowledged.
            Assert.True(status.IsCached(sessionId));
            await transaction.CommitAsync();
        }

        await hooks.RunAfterCommitAsync();
        Assert.False(status.IsCached(sessionId));
        await (await user.Client().GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");
    }

    [Fact]
    public async Task Register_creates_a_user_and_answers_201_with_location_and_no_password()
    {
        var client = app.CreateClient();
        var email = GroundworkApp.UniqueEmail("Reg");
        var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email, name = "  Ada  ", password = "s3cret-pass" });

        var body = await response.AssertStatus(201);
        var data = body["data"]!;
        Assert.Equal(email, data["email"]!.GetValue<string>());
        Assert.Equal("Ada", data["name"]!.GetValue<string>());
        Assert.Equal("user", data["role"]!.GetValue<string>());
        Assert.Null(data["password"]);
        Assert.Null(data["passwordHash"]);
        var id = data["id"]!.GetValue<string>();
        Assert.Equal($"/api/v1/users/{id}", response.Headers.Location!.OriginalString);
        Assert.Equal($"/api/v1/users/{id}", body["links"]!["self"]!.GetValue<string>());
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.EndsWith("Z", data["createdAt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(7, Guid.Parse(id).Version);

        var stored = await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Users.AsNoTracking().SingleAsync(u => u.Id == Guid.Parse(id)));
        Assert.StartsWith("$2", stored.PasswordHash, StringComparison.Ordinal);
        Assert.True(BCrypt.Net.BCrypt.Verify("s3cret-pass", stored.PasswordHash));
    }

    [Fact]
    public async Task Register_with_an_email_taken_in_another_case_is_409_and_writes_nothing()
    {
        var client = app.CreateClient();
        var email = GroundworkApp.UniqueEmail("dup");
        (await client.PostAsJsonAsync("/api/v1/auth/register", new { email, name = "One", password = "password-1" })).EnsureSuccessStatusCode();
        var before = await CountAsync(db => db.Users.CountAsync());

        var again = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = email.ToUpperInvariant(), name = "Two", password = "password-2" });

        var error = await again.AssertError(409, "CONFLICT");
        Assert.Contains("email", error.Fields());
        Assert.Equal(before, await CountAsync(db => db.Users.CountAsync()));
    }

    [Fact]
    public async Task Login_returns_a_token_pair_and_me_shows_the_user()
    {
        var actor = await app.ActorAsync();
        var client = app.CreateClient();
        var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = actor.Email.ToUpperInvariant(), password = actor.Password });

        var tokens = await login.AssertStatus(200);
        Assert.Equal("Bearer", tokens["tokenType"]!.GetValue<string>());
        Assert.Equal(900, tokens["expiresIn"]!.GetValue<int>());
        Assert.Equal(3, tokens["accessToken"]!.GetValue<string>().Split('.').Length);
        Assert.True(tokens["refreshToken"]!.GetValue<string>().Length >= 43);
        var refreshExpiry = DateTime.Parse(tokens["refreshTokenExpiresAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime();
        Assert.InRange(refreshExpiry, DateTime.UtcNow.AddDays(7).AddMinutes(-5), DateTime.UtcNow.AddDays(7).AddMinutes(5));
        Assert.Equal("no-store", login.Headers.CacheControl!.ToString());

        client.DefaultRequestHeaders.Authorization = new("Bearer", tokens["accessToken"]!.GetValue<string>());
        var me = await (await client.GetAsync("/api/v1/auth/me")).AssertStatus(200);
        Assert.Equal(actor.Id.ToString(), me["data"]!["id"]!.GetValue<string>());
        Assert.Equal(actor.Email, me["data"]!["email"]!.GetValue<string>());
    }

    /// <summary>
    /// bcrypt reads 72 bytes of a password. A 72-byte password followed by anything was accepted at login and as the
    /// current password of a change: it is refused like any wrong password, and the password stays unchanged.
    /// </summary>
    [Fact]
    public async Task A_password_with_anything_after_its_72nd_byte_is_wrong()
    {
        var client = app.CreateClient();
        var email = GroundworkApp.UniqueEmail("long");
        var password = new string('p', 72);
        await (await client.PostAsJsonAsync("/api/v1/auth/register", new { email, name = "Long", password })).AssertStatus(201);
        foreach (var longer in new[] { password + "x", password + " totally-different-suffix", password + new string('q', 900) })
        {
            var refused = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = longer })).AssertError(401, "AUTHENTICATION_ERROR");
            Assert.Equal("Invalid credentials", refused["message"]!.GetValue<string>());
        }

        var tokens = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password })).AssertStatus(200);
        var signedIn = app.CreateClient();
        signedIn.DefaultRequestHeaders.Authorization = new("Bearer", tokens["accessToken"]!.GetValue<string>());
        var wrongCurrent = await (await signedIn.PostAsJsonAsync("/api/v1/auth/password", new { currentPassword = password + "x", newPassword = "a-new-password-1" })).AssertError(400, "VALIDATION_ERROR");
        Assert.Equal(["currentPassword"], wrongCurrent.Fields());
        await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password })).AssertStatus(200);
    }

    [Fact]
    public async Task Unknown_email_and_wrong_password_get_the_same_answer()
    {
        var actor = await app.ActorAsync();
        var client = app.CreateClient();

        var wrongPassword = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = actor.Email, password = "not-the-password" });
        var unknownEmail = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = GroundworkApp.UniqueEmail("ghost"), password = "not-the-password" });

        var a = await wrongPassword.AssertError(401, "AUTHENTICATION_ERROR");
        var b = await unknownEmail.AssertError(401, "AUTHENTICATION_ERROR");
        Assert.Equal("Invalid credentials", a["message"]!.GetValue<string>());
        a.Remove("requestId");
        b.Remove("requestId");
        Assert.Equal(a.ToJsonString(), b.ToJsonString());
        Assert.Equal(wrongPassword.Headers.WwwAuthenticate.ToString(), unknownEmail.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Refresh_rotates_the_token_and_the_old_one_stops_working()
    {
        var actor = await app.ActorAsync();
        var client = app.CreateClient();

        var first = await (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = actor.RefreshToken })).AssertStatus(200);
        var rotated = first["refreshToken"]!.GetValue<string>();
        Assert.NotEqual(actor.RefreshToken, rotated);

        var second = await (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = rotated })).AssertStatus(200);
        Assert.NotEqual(rotated, second["refreshToken"]!.GetValue<string>());
        // Absolute lifetime: rotation does not extend the session.
        Assert.Equal(first["refreshTokenExpiresAt"]!.GetValue<string>(), second["refreshTokenExpiresAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reusing_a_rotated_refresh_token_revokes_the_whole_session()
    {
        var actor = await app.ActorAsync();
        var client = app.CreateClient();
        var rotated = await (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = actor.RefreshToken })).AssertStatus(200);
        var newAccess = rotated["accessToken"]!.GetValue<string>();
        var newRefresh = rotated["refreshToken"]!.GetValue<string>();

        // The thief (or the victim) replays the old token.
        await (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = actor.RefreshToken })).AssertError(401, "AUTHENTICATION_ERROR");

        // Both holders are out: the new refresh token and every access token of the session.
        await (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = newRefresh })).AssertError(401, "AUTHENTICATION_ERROR");
        var authed = app.CreateClient();
        authed.DefaultRequestHeaders.Authorization = new("Bearer", newAccess);
        await (await authed.GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");
        await (await actor.Client().GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");

        var reason = await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Sessions
            .Where(s => s.UserId == actor.Id).Select(s => s.RevokedReason).SingleAsync());
        Assert.Equal("refresh-token-reuse", reason);
    }

    [Fact]
    public async Task Logout_ends_the_session_for_access_and_refresh_tokens()
    {
        var actor = await app.ActorAsync();
        var client = actor.Client();

        var logout = await client.PostAsync("/api/v1/auth/logout", null);
        Assert.Equal(204, (int)logout.StatusCode);

        await (await client.GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = actor.RefreshToken }))
            .AssertError(401, "AUTHENTICATION_ERROR");
    }

    [Fact]
    public async Task Logout_with_a_refresh_token_ends_that_session_only_when_it_is_the_callers()
    {
        var actor = await app.ActorAsync();
        var stranger = await app.ActorAsync();
        var second = await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = actor.Email, password = actor.Password })).AssertStatus(200);
        var secondRefresh = second["refreshToken"]!.GetValue<string>();

        await (await stranger.Client().PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = secondRefresh })).AssertError(404, "NOT_FOUND");
        Assert.Equal(204, (int)(await actor.Client().PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = secondRefresh })).StatusCode);

        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = secondRefresh })).AssertError(401, "AUTHENTICATION_ERROR");
        await (await actor.Client().GetAsync("/api/v1/auth/me")).AssertStatus(200);
    }

    [Fact]
    public async Task Sessions_are_listed_and_one_can_be_revoked()
    {
        var actor = await app.ActorAsync();
        var other = await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = actor.Email, password = actor.Password })).AssertStatus(200);
        var otherClient = app.CreateClient();
        otherClient.DefaultRequestHeaders.Authorization = new("Bearer", other["accessToken"]!.GetValue<string>());

        var list = (await (await actor.Client().GetAsync("/api/v1/auth/sessions")).AssertStatus(200))["data"]!.AsArray();
        Assert.Equal(2, list.Count);
        Assert.Single(list, s => s!["current"]!.GetValue<bool>());
        var otherId = list.Single(s => !s!["current"]!.GetValue<bool>())!["id"]!.GetValue<string>();
        Assert.NotNull(list[0]!["createdAt"]);
        Assert.NotNull(list[0]!["lastSeenAt"]);

        var stranger = await app.ActorAsync();
        await (await stranger.Client().DeleteAsync($"/api/v1/auth/sessions/{otherId}")).AssertError(404, "NOT_FOUND");
        Assert.Equal(204, (int)(await actor.Client().DeleteAsync($"/api/v1/auth/sessions/{otherId}")).StatusCode);

        await (await otherClient.GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");
        await (await actor.Client().GetAsync("/api/v1/auth/me")).AssertStatus(200);
        Assert.Single((await (await actor.Client().GetAsync("/api/v1/auth/sessions")).AssertStatus(200))["data"]!.AsArray());
    }

    [Fact]
    public async Task Password_change_keeps_this_session_and_ends_the_others()
    {
        var actor = await app.ActorAsync();
        var other = await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = actor.Email, password = actor.Password })).AssertStatus(200);

        var wrong = await actor.Client().PostAsJsonAsync("/api/v1/auth/password", new { currentPassword = "nope-nope", newPassword = "brand-new-pass" });
        Assert.Contains("currentPassword", (await wrong.AssertError(400, "VALIDATION_ERROR")).Fields());

        var change = await actor.Client().PostAsJsonAsync("/api/v1/auth/password", new { currentPassword = actor.Password, newPassword = "brand-new-pass" });
        Assert.Equal(204, (int)change.StatusCode);

        await (await actor.Client().GetAsync("/api/v1/auth/me")).AssertStatus(200);
        var otherClient = app.CreateClient();
        otherClient.DefaultRequestHeaders.Authorization = new("Bearer", other["accessToken"]!.GetValue<string>());
        await (await otherClient.GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = other["refreshToken"]!.GetValue<string>() }))
            .AssertError(401, "AUTHENTICATION_ERROR");

        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = actor.Email, password = actor.Password })).AssertError(401, "AUTHENTICATION_ERROR");
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = actor.Email, password = "brand-new-pass" })).AssertStatus(200);
    }

    /// <summary>
    /// ADR 0025: bcrypt runs before the operation's transaction. A login parked waiting for a hashing slot (the test
    /// holds them all) holds no transaction, so other writes go on: on SQLite the write lock would otherwise be
    /// held for as long as the hash waits and runs, and on PostgreSQL the login's connection would sit idle in a
    /// transaction.
    /// </summary>
    [Fact]
    public async Task A_login_waiting_for_bcrypt_holds_no_transaction_and_other_writes_go_on()
    {
        var target = await app.ActorAsync();
        var writer = await app.ActorAsync();
        var work = app.Service<PasswordWork>();
        await using (var slots = await HashingSlots.HoldAllAsync(work))
        {
            var login = app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = target.Email, password = target.Password });
            await Eventually.HoldsAsync(() => work.Waiting == 1);

            // The login waits for a slot; a write by someone else commits meanwhile.
            await writer.RenameAsync("Renamed meanwhile").WaitAsync(Eventually.Patience);
            Assert.Equal("Renamed meanwhile", await app.Db(db => db.Users.Where(u => u.Id == writer.Id).Select(u => u.Name).SingleAsync()));
            Assert.False(login.IsCompleted);
            if (app.Provider == Provider.Postgres)
            {
                Assert.Equal(0L, await app.Db(db => db.Database
                    .SqlQueryRaw<long>("SELECT count(*) AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND query ILIKE '%users%'")
                    .SingleAsync()));
            }

            slots.Release();
            var tokens = await (await login.WaitAsync(Eventually.Patience)).AssertStatus(200);
            Assert.False(string.IsNullOrEmpty(tokens["accessToken"]?.GetValue<string>()));
        }
    }

    /// <summary>
    /// The password checked before the transaction is the one stored then. Changed while the login waited for its
    /// hash, the old password no longer signs in (the handler checks it again against the new hash), and the new
    /// one does.
    /// </summary>
    [Fact]
    public async Task A_password_changed_while_a_login_waited_for_bcrypt_refuses_the_old_one()
    {
        var target = await app.ActorAsync();
        var work = app.Service<PasswordWork>();
        var newHash = await app.Service<PasswordHasher>().HashAsync("changed-meanwhile", CancellationToken.None);
        await using (var slots = await HashingSlots.HoldAllAsync(work))
        {
            // It read the old hash and waits to check the old password against it.
            var login = app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = target.Email, password = target.Password });
            await Eventually.HoldsAsync(() => work.Waiting == 1);
            await app.Db(db => db.Users.Where(u => u.Id == target.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.PasswordHash, newHash)));

            slots.Release();
            await (await login.WaitAsync(Eventually.Patience)).AssertError(401, "AUTHENTICATION_ERROR");
        }

        var sessions = await app.Db(db => db.Sessions.CountAsync(s => s.UserId == target.Id));
        Assert.Equal(1, sessions);
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = target.Email, password = "changed-meanwhile" })).AssertStatus(200);
    }

    /// <summary>
    /// A node whose hashing queue is full refuses another login at once, before any database work: 503 with
    /// Retry-After, no session. It used to wait out its request timeout behind the queue.
    /// </summary>
    [Fact]
    public async Task A_login_past_the_hashing_queue_bound_is_refused_at_once_with_503_and_retry_after()
    {
        var target = await app.ActorAsync();
        var work = app.Service<PasswordWork>();
        var sessionsBefore = await app.Db(db => db.Sessions.CountAsync(s => s.UserId == target.Id));
        await using (var slots = await HashingSlots.HoldAllAsync(work))
        {
            var queued = Enumerable.Range(0, work.MaxWaiting).Select(_ => work.RunAsync(() => true, CancellationToken.None)).ToList();
            await Eventually.HoldsAsync(() => work.Waiting == work.MaxWaiting);

            app.Sql.Reset();
            app.Sql.Counted = sql => sql.Contains("users", StringComparison.OrdinalIgnoreCase);
            HttpResponseMessage refused;
            int usersRead;
            try
            {
                refused = await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = target.Email, password = target.Password });
                usersRead = app.Sql.Count;
            }
            finally
            {
                app.Sql.Counted = _ => true;
            }

            await refused.AssertError(503, "SERVICE_UNAVAILABLE");
            Assert.Equal(0, usersRead);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
            Assert.Equal(work.MaxWaiting, work.Waiting);
            slots.Release();
            await Task.WhenAll(queued).WaitAsync(Eventually.Patience);
        }

        Assert.Equal(sessionsBefore, await app.Db(db => db.Sessions.CountAsync(s => s.UserId == target.Id)));
        await (await app.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = target.Email, password = target.Password })).AssertStatus(200);
    }

    /// <summary>Every hashing slot of the node, taken by work that blocks until released: logins then wait for one.</summary>
    private sealed class HashingSlots : IAsyncDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        private List<Task<bool>> _holders = [];

        public static async Task<HashingSlots> HoldAllAsync(PasswordWork work)
        {
            var slots = new HashingSlots();
            var holding = 0;
            slots._holders = Enumerable.Range(0, work.Slots).Select(_ => work.RunAsync(() =>
            {
                Interlocked.Increment(ref holding);
                return slots._release.Wait(TimeSpan.FromSeconds(60));
            }, CancellationToken.None)).ToList();
            await Eventually.HoldsAsync(() => Volatile.Read(ref holding) == work.Slots && work.Waiting == 0);
            return slots;
        }

        public void Release() => _release.Set();

        public async ValueTask DisposeAsync()
        {
            _release.Set();
            await Task.WhenAll(_holders);
            _release.Dispose();
        }
    }


    [Fact]
    public async Task Concurrent_refreshes_with_one_token_let_at_most_one_through()
    {
        var actor = await app.ActorAsync();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            app.CreateClient().PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = actor.RefreshToken })));
        Assert.True(attempts.Count(r => r.IsSuccessStatusCode) <= 1);
        Assert.All(attempts.Where(r => !r.IsSuccessStatusCode), r => Assert.Equal(401, (int)r.StatusCode));
    }
}

public sealed class AuthFlowTestsOnSqlite(SqliteApp app) : AuthFlowTests(app), IClassFixture<SqliteApp>;

public sealed class AuthFlowTestsOnPostgres(PostgresApp app) : AuthFlowTests(app), IClassFixture<PostgresApp>;
