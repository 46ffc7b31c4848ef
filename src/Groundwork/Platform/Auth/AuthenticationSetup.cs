using System.Security.Claims;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.Tokens;

namespace Groundwork.Platform.Auth;

public static class AuthenticationSetup
{
    private const string SelectorScheme = "BearerOrApiKey";

    public static IServiceCollection AddGroundworkAuthentication(this IServiceCollection services, GroundworkSettings settings)
    {
        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<AccessTokenIssuer>();
        services.AddSingleton<PasswordWork>();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<SessionStatus>();
        services.AddSingleton<CredentialCheck>();
        services.AddSingleton<ApiKeyStatus>();
        // Secrets the service must read back (webhook signing secrets) are encrypted with keys kept beside the
        // signing keys, so every node that shares KeysPath can read them.
        services.AddDataProtection()
            .SetApplicationName("groundwork")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(settings.KeysPath, "data-protection")));

        services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, SelectorScheme, o =>
                o.ForwardDefaultSelector = ctx => ctx.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.HeaderName)
                    ? ApiKeyAuthenticationHandler.SchemeName
                    : JwtBearerDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddJwtBearer(o =>
            {
                o.MapInboundClaims = false;
                o.RequireHttpsMetadata = false;
                // Nothing reads the raw token back from the authentication properties; storing it costs every request.
                o.SaveToken = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    // RFC 8725: pin everything an attacker could otherwise choose.
                    ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                    ValidTypes = [AccessTokenIssuer.TokenType],
                    ValidIssuer = settings.Issuer,
                    ValidAudience = settings.Audience,
                    ValidateIssuer = true,
                    ValidateAudience = true,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ValidateIssuerSigningKey = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    NameClaimType = ClaimNames.Subject,
                    RoleClaimType = ClaimNames.Role,
                };
                o.Events = new JwtBearerEvents
                {
                    OnTokenValidated = CheckSessionAsync,
                    OnChallenge = async ctx =>
                    {
                        ctx.HandleResponse();
                        await RestErrors.WriteAsync(ctx.HttpContext, Error.Unauthenticated(
                            ctx.AuthenticateFailure is null ? "Authentication required" : "Invalid or expired credentials"));
                    },
                    OnForbidden = ctx => RestErrors.WriteAsync(ctx.HttpContext, Error.Forbidden()),
                };
            });

        // The key resolver needs the store, which needs DI; configure it after the container is built.
        services.AddSingleton<CachedTokenHandler>();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<SigningKeyStore, CachedTokenHandler>((o, store, handler) =>
            {
                o.TokenValidationParameters.IssuerSigningKeyResolver = (_, _, kid, _) => ResolveKeys(store, kid);
                o.TokenHandlers.Clear();
                o.TokenHandlers.Add(handler);
            });

        services.AddAuthorizationBuilder()
            // Deny by default: an endpoint that forgets to declare access gets "authenticated only".
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

        return services;
    }

    private static IEnumerable<SecurityKey> ResolveKeys(SigningKeyStore store, string? kid)
    {
        if (kid is null)
        {
            return [];
        }

        var match = store.Keys().Where(k => k.KeyId == kid).ToList();
        // A key just added on another node or by the CLI: look at the folder again (at most every few seconds).
        return match.Count > 0 ? match : store.Keys(unknownKeyId: true).Where(k => k.KeyId == kid);
    }

    /// <summary>A valid signature is not enough: the session must still be alive (logout, password change, deletion).</summary>
    private static async Task CheckSessionAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        var claims = CredentialClaims.Of(principal);
        if (!Guid.TryParse(claims.SessionId, out var sessionId)
            || !Guid.TryParse(claims.Subject, out var userId)
            || claims.TokenId is null)
        {
            context.Fail("Token lacks sid, sub or jti");
            return;
        }

        var session = await context.HttpContext.RequestServices.GetRequiredService<SessionStatus>()
            .GetActiveAsync(sessionId, context.HttpContext.RequestAborted);
        if (session is null || session.UserId != userId)
        {
            context.Fail("Session revoked or expired");
            return;
        }

        // The role is the user's role now, not when the token was signed: a demotion takes effect at once.
        var identity = (ClaimsIdentity)principal.Identity!;
        foreach (var claim in identity.FindAll(ClaimNames.Role).ToList())
        {
            identity.RemoveClaim(claim);
        }

        identity.AddClaim(new Claim(ClaimNames.Role, session.Role.WireName()));
    }

    /// <summary>Describes the HTTP caller to the pipeline.</summary>
    public static Caller ToCaller(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(typeof(Caller), out var cached) && cached is Caller c)
        {
            return c;
        }

        var user = context.User;
        var authenticated = user.Identity?.IsAuthenticated == true;
        // Claims count only on an authenticated principal: without one (or without a subject) the caller has no
        // user id, role beyond the default, scopes, session or key.
        var claims = authenticated ? CredentialClaims.Of(user) : default;
        var hasSubject = Guid.TryParse(claims.Subject, out var userId);
        var caller = new Caller
        {
            // Authentication has run by now: a credential that was sent but left the user anonymous failed.
            CredentialRejected = !authenticated
                && (context.Request.Headers.ContainsKey("Authorization") || context.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.HeaderName)),
            ClientIp = context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            UserAgent = context.Request.Headers.UserAgent.ToString() is { Length: > 0 } ua ? ua[..Math.Min(ua.Length, 512)] : null,
            UserId = hasSubject ? userId : null,
            Role = hasSubject && Roles.TryParse(claims.Role, out var role) ? role : Role.User,
            Scopes = hasSubject ? Scopes.Parse(claims.Scope) : Scopes.None,
            SessionId = hasSubject && Guid.TryParse(claims.SessionId, out var sid) ? sid : null,
            ApiKeyId = hasSubject && Guid.TryParse(claims.ApiKeyId, out var kid) ? kid : null,
            CredentialExpiresAt = hasSubject && long.TryParse(claims.Expires, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var exp)
                ? DateTimeOffset.FromUnixTimeSeconds(exp)
                : null,
        };

        context.Items[typeof(Caller)] = caller;
        return caller;
    }
}
