using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Groundwork.Platform.Auth;

/// <summary>Authenticates <c>X-API-Key: gw_…</c> as the key's owner, narrowed to the key's scopes.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyStatus keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    public const string SecretPrefix = "gw_";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values))
        {
            return AuthenticateResult.NoResult();
        }

        var secret = values.ToString();
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal) || secret.Length > 100)
        {
            return AuthenticateResult.Fail("Malformed API key");
        }

        var found = await keys.FindActiveAsync(Secrets.Hash(secret), Context.RequestAborted);
        if (found is null)
        {
            return AuthenticateResult.Fail("Unknown, revoked or expired API key");
        }

        var claims = new List<Claim>
        {
            new(ClaimNames.Subject, found.UserId.ToString()),
            new(ClaimNames.Role, found.Role.WireName()),
            new(ClaimNames.Scope, found.Scopes),
            new(ClaimNames.ApiKeyId, found.KeyId.ToString()),
        };
        var identity = new ClaimsIdentity(claims, SchemeName, ClaimNames.Subject, ClaimNames.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
