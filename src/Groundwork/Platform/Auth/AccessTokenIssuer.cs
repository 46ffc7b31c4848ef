using System.Security.Claims;
using System.Security.Cryptography;
using Groundwork.Platform.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Groundwork.Platform.Auth;

public sealed record IssuedAccessToken(string Token, DateTime ExpiresAt, int ExpiresInSeconds);

/// <summary>Signs access tokens (RFC 9068 shape: <c>typ: at+jwt</c>, <c>kid</c>, <c>sid</c>).</summary>
public sealed class AccessTokenIssuer(SigningKeyStore keys, GroundworkSettings settings, TimeProvider clock)
{
    public const string TokenType = "at+jwt";
    private static readonly JsonWebTokenHandler Handler = new();

    public IssuedAccessToken Issue(Guid userId, Guid sessionId, Role role)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var expires = now + settings.AccessTokenLifetime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            TokenType = TokenType,
            SigningCredentials = new SigningCredentials(keys.SigningKey, SecurityAlgorithms.EcdsaSha256),
            Claims = new Dictionary<string, object>
            {
                [ClaimNames.Subject] = userId.ToString(),
                [ClaimNames.SessionId] = sessionId.ToString(),
                [ClaimNames.Role] = role.WireName(),
                [ClaimNames.Scope] = string.Join(' ', Scopes.All),
                [ClaimNames.TokenId] = Guid.CreateVersion7().ToString(),
            },
        };
        return new IssuedAccessToken(Handler.CreateToken(descriptor), expires, (int)settings.AccessTokenLifetime.TotalSeconds);
    }
}

public static class ClaimNames
{
    public const string Subject = "sub";
    public const string SessionId = "sid";
    public const string Role = "role";
    public const string Scope = "scope";
    public const string TokenId = "jti";
    public const string ApiKeyId = "api_key_id";
    public const string Expires = "exp";
}

/// <summary>Opaque 256-bit secrets (refresh tokens, API keys) and their stored SHA-256 form.</summary>
public static class Secrets
{
    public static string NewToken(string prefix = "") =>
        prefix + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
}

public static class ClaimsPrincipalExtensions
{
    public static string? Find(this ClaimsPrincipal principal, string type) => principal.FindFirst(type)?.Value;
}
