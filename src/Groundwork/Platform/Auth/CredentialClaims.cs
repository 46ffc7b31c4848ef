using System.Security.Claims;

namespace Groundwork.Platform.Auth;

/// <summary>
/// The claims the service reads from an authenticated principal (an access token's or an API key's), read in one
/// pass: every request reads several, and asking <see cref="ClaimsPrincipal.FindFirst(string)"/> for each walks the
/// claims and allocates a predicate every time. The first claim of a type wins, as with <c>FindFirst</c>; unlike it,
/// types compare exactly (the service writes them all in lower case, and signs or stores every principal it reads).
/// </summary>
public readonly record struct CredentialClaims(
    string? Subject, string? SessionId, string? TokenId, string? Role, string? Scope, string? ApiKeyId, string? Expires)
{
    public static CredentialClaims Of(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        string? subject = null, sessionId = null, tokenId = null, role = null, scope = null, apiKeyId = null, expires = null;
        foreach (var identity in principal.Identities)
        {
            foreach (var claim in identity.Claims)
            {
                switch (claim.Type)
                {
                    case ClaimNames.Subject: subject ??= claim.Value; break;
                    case ClaimNames.SessionId: sessionId ??= claim.Value; break;
                    case ClaimNames.TokenId: tokenId ??= claim.Value; break;
                    case ClaimNames.Role: role ??= claim.Value; break;
                    case ClaimNames.Scope: scope ??= claim.Value; break;
                    case ClaimNames.ApiKeyId: apiKeyId ??= claim.Value; break;
                    case ClaimNames.Expires: expires ??= claim.Value; break;
                    default: break;
                }
            }
        }

        return new CredentialClaims(subject, sessionId, tokenId, role, scope, apiKeyId, expires);
    }
}
