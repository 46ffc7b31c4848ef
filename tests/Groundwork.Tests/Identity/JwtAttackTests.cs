using Groundwork.Features.Auth;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Groundwork.Tests.Identity;

/// <summary>RFC 8725 attacks: each forged or stale token is refused with 401 and the envelope.</summary>
public abstract class JwtAttackTests(GroundworkApp app)
{
    private sealed record Victim(Actor Actor, Guid SessionId, ECDsaSecurityKey Key);

    private async Task<Victim> VictimAsync()
    {
        var actor = await app.ActorAsync();
        var sid = await app.WithScopeAsync(sp => sp.GetRequiredService<GroundworkDbContext>().Sessions
            .Where(s => s.UserId == actor.Id).Select(s => s.Id).SingleAsync());
        return new Victim(actor, sid, app.Service<SigningKeyStore>().SigningKey);
    }

    [Fact]
    public async Task A_validated_token_is_remembered_by_its_hash_but_a_revoked_session_is_still_refused()
    {
        var victim = await VictimAsync();
        var handler = app.Service<CachedTokenHandler>();
        var parameters = app.Service<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerOptions>>()
            .Get(Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;
        Assert.True((await handler.ValidateTokenAsync(victim.Actor.AccessToken, parameters)).IsValid);

        // The same token under the same rules: answered from memory.
        var hits = handler.Hits;
        var remembered = await handler.ValidateTokenAsync(victim.Actor.AccessToken, parameters.Clone());
        Assert.True(remembered.IsValid);
        Assert.Equal(hits + 1, handler.Hits);
        Assert.Equal(victim.Actor.Id.ToString(), remembered.ClaimsIdentity.FindFirst("sub")!.Value);
        // Under other rules (here: no keys to verify with, another audience) it is validated afresh, and fails.
        var noKeys = parameters.Clone();
        noKeys.IssuerSigningKeyResolver = (_, _, _, _) => [];
        Assert.False((await handler.ValidateTokenAsync(victim.Actor.AccessToken, noKeys)).IsValid);
        var otherAudience = parameters.Clone();
        otherAudience.ValidAudience = "someone-else";
        Assert.False((await handler.ValidateTokenAsync(victim.Actor.AccessToken, otherAudience)).IsValid);
        Assert.Equal(hits + 1, handler.Hits);
        // A token that differs in one character is not that token.
        var tampered = victim.Actor.AccessToken[..^2] + (victim.Actor.AccessToken[^2] == 'A' ? "B" : "A") + victim.Actor.AccessToken[^1];
        Assert.False((await handler.ValidateTokenAsync(tampered, parameters)).IsValid);

        // The signature is skipped, the session check is not: logout ends the token at once.
        await (await victim.Actor.Client().GetAsync("/api/v1/auth/me")).AssertStatus(200);
        await (await victim.Actor.Client().PostAsync("/api/v1/auth/logout", null)).AssertStatus(204);
        await (await victim.Actor.Client().GetAsync("/api/v1/auth/me")).AssertError(401, "AUTHENTICATION_ERROR");
    }

    private static Dictionary<string, object> Claims(Victim v, string role = "user") => new()
    {
        ["sub"] = v.Actor.Id.ToString(),
        ["sid"] = v.SessionId.ToString(),
        ["role"] = role,
        ["scope"] = string.Join(' ', Scopes.All),
        ["jti"] = Guid.NewGuid().ToString(),
    };

    private static string Sign(Victim v, Action<SecurityTokenDescriptor>? change = null, SecurityKey? key = null, string role = "user")
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "groundwork",
            Audience = "groundwork-api",
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(10),
            TokenType = "at+jwt",
            Claims = Claims(v, role),
            SigningCredentials = new SigningCredentials(key ?? v.Key, SecurityAlgorithms.EcdsaSha256),
        };
        change?.Invoke(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static string B64(object value) => Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(value));

    private async Task<HttpResponseMessage> MeWith(string token)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.GetAsync("/api/v1/auth/me");
    }

    private async Task AssertRefused(string token)
    {
        var response = await MeWith(token);
        await response.AssertError(401, "AUTHENTICATION_ERROR");
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_correctly_forged_token_is_accepted_which_proves_the_attacks_below_fail_for_their_flaw_alone()
    {
        var v = await VictimAsync();
        var body = await (await MeWith(Sign(v))).AssertStatus(200);
        Assert.Equal(v.Actor.Id.ToString(), body["data"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Alg_none_is_refused()
    {
        var v = await VictimAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = new Dictionary<string, object>(Claims(v))
        {
            ["iss"] = "groundwork", ["aud"] = "groundwork-api", ["iat"] = now, ["nbf"] = now, ["exp"] = now + 600,
        };
        await AssertRefused($"{B64(new { alg = "none", typ = "at+jwt", kid = v.Key.KeyId })}.{B64(payload)}.");
    }

    [Fact]
    public async Task Hs256_signed_with_the_public_key_is_refused()
    {
        var v = await VictimAsync();
        var publicPem = v.Key.ECDsa.ExportSubjectPublicKeyInfoPem();
        var hmacKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(publicPem)) { KeyId = v.Key.KeyId };
        var token = Sign(v, d => d.SigningCredentials = new SigningCredentials(hmacKey, SecurityAlgorithms.HmacSha256));
        await AssertRefused(token);
    }

    [Fact]
    public async Task Expired_token_is_refused_beyond_the_30_second_skew()
    {
        var v = await VictimAsync();
        await AssertRefused(Sign(v, d =>
        {
            d.IssuedAt = DateTime.UtcNow.AddMinutes(-20);
            d.NotBefore = DateTime.UtcNow.AddMinutes(-20);
            d.Expires = DateTime.UtcNow.AddMinutes(-2);
        }));
    }

    [Fact]
    public async Task Not_yet_valid_token_is_refused()
    {
        var v = await VictimAsync();
        await AssertRefused(Sign(v, d =>
        {
            d.NotBefore = DateTime.UtcNow.AddMinutes(5);
            d.Expires = DateTime.UtcNow.AddMinutes(20);
        }));
    }

    [Fact]
    public async Task Wrong_issuer_is_refused()
    {
        var v = await VictimAsync();
        await AssertRefused(Sign(v, d => d.Issuer = "evil"));
    }

    [Fact]
    public async Task Wrong_audience_is_refused()
    {
        var v = await VictimAsync();
        await AssertRefused(Sign(v, d => d.Audience = "another-api"));
    }

    [Fact]
    public async Task Wrong_typ_is_refused()
    {
        var v = await VictimAsync();
        await AssertRefused(Sign(v, d => d.TokenType = "JWT"));
    }

    [Fact]
    public async Task Tampered_payload_is_refused()
    {
        var v = await VictimAsync();
        var parts = v.Actor.AccessToken.Split('.');
        var payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Base64UrlEncoder.DecodeBytes(parts[1]))!;
        var forged = payload.ToDictionary(kv => kv.Key, kv => (object)kv.Value);
        forged["role"] = "admin";
        await AssertRefused($"{parts[0]}.{B64(forged)}.{parts[2]}");
    }

    [Fact]
    public async Task Unknown_kid_is_refused()
    {
        var v = await VictimAsync();
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await AssertRefused(Sign(v, key: new ECDsaSecurityKey(stranger) { KeyId = "not-a-key-of-ours" }));
    }

    [Fact]
    public async Task Right_kid_but_a_foreign_signature_is_refused()
    {
        var v = await VictimAsync();
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await AssertRefused(Sign(v, key: new ECDsaSecurityKey(stranger) { KeyId = v.Key.KeyId }));
    }

    [Fact]
    public async Task Token_of_a_revoked_session_is_refused_before_it_expires()
    {
        var v = await VictimAsync();
        Assert.Equal(204, (int)(await v.Actor.Client().PostAsync("/api/v1/auth/logout", null)).StatusCode);
        await AssertRefused(v.Actor.AccessToken);
        await AssertRefused(Sign(v));
    }

    [Fact]
    public async Task Token_without_sid_is_refused()
    {
        var v = await VictimAsync();
        await AssertRefused(Sign(v, d => d.Claims.Remove("sid")));
    }

    [Fact]
    public async Task Garbage_bearer_is_refused()
    {
        await AssertRefused("not.a.jwt");
        await AssertRefused("x");
    }

    [Fact]
    public async Task Issued_tokens_have_the_rfc9068_header_and_claims()
    {
        var v = await VictimAsync();
        var token = new JsonWebToken(v.Actor.AccessToken);
        Assert.Equal("ES256", token.Alg);
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal(v.Key.KeyId, token.Kid);
        foreach (var claim in new[] { "iss", "aud", "sub", "sid", "role", "scope", "jti", "iat", "nbf", "exp" })
        {
            Assert.True(token.TryGetPayloadValue<object>(claim, out _), $"missing claim {claim}");
        }

        Assert.Equal(v.SessionId.ToString(), token.GetClaim("sid").Value);
        Assert.Equal(v.Actor.Id.ToString(), token.Subject);
    }

    [Fact]
    public async Task Rotating_the_signing_key_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key()
    {
        var v = await VictimAsync();
        var store = app.Service<SigningKeyStore>();
        var oldKid = store.SigningKey.KeyId;
        var newKid = store.AddKey();

        await (await MeWith(v.Actor.AccessToken)).AssertStatus(200);
        var fresh = await app.ActorAsync();
        Assert.Equal(newKid, new JsonWebToken(fresh.AccessToken).Kid);
        await (await fresh.Client().GetAsync("/api/v1/auth/me")).AssertStatus(200);

        var jwks = await (await app.CreateClient().GetAsync("/.well-known/jwks.json")).AssertStatus(200);
        var kids = jwks["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
        Assert.Contains(oldKid, kids);
        Assert.Contains(newKid, kids);
        Assert.All(jwks["keys"]!.AsArray(), k =>
        {
            Assert.Equal("EC", k!["kty"]!.GetValue<string>());
            Assert.Equal("ES256", k["alg"]!.GetValue<string>());
            Assert.Null(k["d"]);
        });
    }

    [Fact]
    public async Task Openid_configuration_points_at_the_jwks()
    {
        var config = await (await app.CreateClient().GetAsync("/.well-known/openid-configuration")).AssertStatus(200);
        Assert.Equal("groundwork", config["issuer"]!.GetValue<string>());
        Assert.EndsWith("/.well-known/jwks.json", config["jwks_uri"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

public sealed class JwtAttackTestsOnSqlite(SqliteApp app) : JwtAttackTests(app), IClassFixture<SqliteApp>;

public sealed class JwtAttackTestsOnPostgres(PostgresApp app) : JwtAttackTests(app), IClassFixture<PostgresApp>;
