using System.Buffers;
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
        var key = KeyOf(token);
        if (_validated.TryGetValue(key, out Validated? hit) && hit!.Expires > _clock.GetUtcNow() && hit.Rules.Match(validationParameters)
            && HasKey(hit.KeyId))
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
            _validated.Set(key, new Validated(result.ClaimsIdentity.Clone(), securityToken, result.TokenType, entryExpires, Rules.Of(validationParameters), keyId),
                new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = entryExpires });
        }

        return result;
    }

    /// <summary>
    /// Whether this exact bearer token was validated here and is still within its cached validity (signature,
    /// lifetime, key still present): checking it again costs a hash and a lookup, nothing worth refusing early.
    /// </summary>
    public bool IsKnownValid(ReadOnlySpan<char> token) =>
        _validated.TryGetValue(KeyOf(token), out Validated? hit) && hit!.Expires > _clock.GetUtcNow() && HasKey(hit.KeyId);

    /// <summary>
    /// The cache key: the token's SHA-256 (Base64). It runs on every request, so the token's UTF-8 bytes go to a
    /// stack buffer (tokens up to about 1,300 characters; a real one is under 1,000) or a pooled one, cleared after.
    /// </summary>
    private static string KeyOf(ReadOnlySpan<char> token)
    {
        var most = Encoding.UTF8.GetMaxByteCount(token.Length);
        byte[]? rented = null;
        var utf8 = most <= 4_096 ? stackalloc byte[4_096] : (rented = ArrayPool<byte>.Shared.Rent(most));
        try
        {
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(token, utf8)], hash);
            return Convert.ToBase64String(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    private bool HasKey(string? keyId)
    {
        foreach (var key in _keys.Keys())
        {
            if (key.KeyId == keyId)
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose() => _validated.Dispose();

    /// <summary>
    /// The rules a token was validated under. JwtBearer clones its parameters per request, so they are compared by
    /// value, field by field (no string is built on a request that hits): the key resolver by reference (the clone
    /// copies the delegate), a null list as an empty one, list items in order (a reordered list only costs a miss).
    /// One handler serves one scheme: settings outside these (claim types, clock skew) are the scheme's, not a
    /// token's. Compare with <see cref="Match"/>, never <c>==</c> (the lists are arrays).
    /// </summary>
    private sealed record Rules(
        string? Issuer, string? Audience, string[] Issuers, string[] Audiences, string[] Types, string[] Algorithms,
        bool Lifetime, bool CheckIssuer, bool CheckAudience, IssuerSigningKeyResolver? Resolver)
    {
        public static Rules Of(TokenValidationParameters p) => new(
            p.ValidIssuer, p.ValidAudience, [.. p.ValidIssuers ?? []], [.. p.ValidAudiences ?? []], [.. p.ValidTypes ?? []],
            [.. p.ValidAlgorithms ?? []], p.ValidateLifetime, p.ValidateIssuer, p.ValidateAudience, p.IssuerSigningKeyResolver);

        public bool Match(TokenValidationParameters p) =>
            Issuer == p.ValidIssuer && Audience == p.ValidAudience && Lifetime == p.ValidateLifetime
            && CheckIssuer == p.ValidateIssuer && CheckAudience == p.ValidateAudience
            && ReferenceEquals(Resolver, p.IssuerSigningKeyResolver)
            && Same(Issuers, p.ValidIssuers) && Same(Audiences, p.ValidAudiences)
            && Same(Types, p.ValidTypes) && Same(Algorithms, p.ValidAlgorithms);

        private static bool Same(string[] kept, IEnumerable<string>? given)
        {
            var i = 0;
            foreach (var value in given ?? [])
            {
                if (i == kept.Length || kept[i++] != value)
                {
                    return false;
                }
            }

            return i == kept.Length;
        }
    }

    private sealed record Validated(ClaimsIdentity Identity, SecurityToken Token, string? TokenType, DateTimeOffset Expires, Rules Rules, string? KeyId);
}
