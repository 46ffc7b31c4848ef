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
/// and never kept past the token's expiry or five minutes. Only the signature work is skipped: every request still
/// asks <see cref="SessionStatus"/> whether the session lives, so revocation holds within its one second.
/// </summary>
public sealed class CachedTokenHandler : JsonWebTokenHandler, IDisposable
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    private readonly MemoryCache _validated = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly TimeProvider _clock;

    public CachedTokenHandler(TimeProvider clock)
    {
        _clock = clock;
        MapInboundClaims = false;
    }

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        ArgumentNullException.ThrowIfNull(token);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (_validated.TryGetValue(key, out Validated? hit) && hit!.Expires > _clock.GetUtcNow())
        {
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
            _validated.Set(key, new Validated(result.ClaimsIdentity.Clone(), securityToken, result.TokenType, entryExpires),
                new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = entryExpires });
        }

        return result;
    }

    public void Dispose() => _validated.Dispose();

    private sealed record Validated(ClaimsIdentity Identity, SecurityToken Token, string? TokenType, DateTimeOffset Expires);
}
