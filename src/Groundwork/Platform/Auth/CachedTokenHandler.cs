using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Groundwork.Platform.Auth;

/// <summary>
/// Remembers access tokens that validated, so the ES256 signature check and claim parsing run once per token, not
/// once per request. Keyed by the token's SHA-256 (the token itself is never kept as a key), bounded in count,
/// and never kept past the token's expiry or five minutes. A remembered answer is used only under the same
/// validation rules (issuer, audience, types, algorithms, key resolver) and while the signing key is still in the
/// key folder. Only the signature work is skipped: every request still asks <see cref="SessionStatus"/> whether the
/// session lives, so revocation holds within its one second.
/// </summary>
public sealed class CachedTokenHandler : JsonWebTokenHandler, IDisposable
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    private readonly MemoryCache _validated = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly TimeProvider _clock;

    private readonly SigningKeyStore _keys;
    private long _hits;

    public CachedTokenHandler(TimeProvider clock, SigningKeyStore keys)
    {
        _clock = clock;
        _keys = keys;
        MapInboundClaims = false;
    }

    /// <summary>Validations answered from memory (tests).</summary>
    internal long Hits => Interlocked.Read(ref _hits);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(validationParameters);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        var rules = Rules(validationParameters);
        if (_validated.TryGetValue(key, out Validated? hit) && hit!.Expires > _clock.GetUtcNow() && hit.Rules == rules
            && _keys.Keys().Any(k => k.KeyId == hit.KeyId))
        {
            Interlocked.Increment(ref _hits);
            // A fresh identity per request: the session check rewrites the role claim on it.
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = hit.Identity.Clone(),
                SecurityToken = hit.Token,
                Issuer = hit.Token.Issuer,
                TokenType = hit.TokenType,
            };
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { } securityToken)
        {
            var expires = new DateTimeOffset(DateTime.SpecifyKind(securityToken.ValidTo, DateTimeKind.Utc));
            var until = _clock.GetUtcNow() + MaxAge;
            var entryExpires = expires < until ? expires : until;
            var keyId = (securityToken as JsonWebToken)?.Kid;
            _validated.Set(key, new Validated(result.ClaimsIdentity.Clone(), securityToken, result.TokenType, entryExpires, rules, keyId),
                new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = entryExpires });
        }

        return result;
    }

    /// <summary>
    /// Whether this exact bearer token was validated here and is still within its cached validity (signature,
    /// lifetime, key still present): checking it again costs a hash and a lookup, nothing worth refusing early.
    /// </summary>
    public bool IsKnownValid(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        return _validated.TryGetValue(key, out Validated? hit) && hit!.Expires > _clock.GetUtcNow() && _keys.Keys().Any(k => k.KeyId == hit.KeyId);
    }

    public void Dispose() => _validated.Dispose();

    /// <summary>The rules a token was validated under; JwtBearer clones its parameters per request, so compare by value.</summary>
    private static string Rules(TokenValidationParameters p) => string.Join('|',
        p.ValidIssuer, p.ValidAudience, string.Join(',', p.ValidIssuers ?? []), string.Join(',', p.ValidAudiences ?? []),
        string.Join(',', p.ValidTypes ?? []), string.Join(',', p.ValidAlgorithms ?? []), p.ValidateLifetime, p.ValidateIssuer,
        p.ValidateAudience, p.IssuerSigningKeyResolver is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(p.IssuerSigningKeyResolver));

    private sealed record Validated(ClaimsIdentity Identity, SecurityToken Token, string? TokenType, DateTimeOffset Expires, string Rules, string? KeyId);
}
