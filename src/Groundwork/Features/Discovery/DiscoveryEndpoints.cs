using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.IdentityModel.Tokens;

namespace Groundwork.Features.Discovery;

/// <summary>Publishes the verification keys (JWKS) and the OpenID discovery document, so any resource server can verify our tokens.</summary>
public static class DiscoveryEndpoints
{
    public static void MapDiscovery(this IEndpointRouteBuilder app)
    {
        var wellKnown = app.MapGroup("/.well-known").WithTags("Discovery").AllowAnonymous();

        wellKnown.MapGet("/jwks.json", ([FromServices] SigningKeyStore store, HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "public, max-age=60";
                return TypedResults.Json(new JwkSet(store.Keys().Select(Jwk).ToList()));
            })
            .WithName("Jwks").WithSummary("Public keys that verify access tokens (JWKS)")
            .Produces(StatusCodes.Status200OK, contentType: "application/json").ProducesErrors(429);

        wellKnown.MapGet("/openid-configuration", ([FromServices] GroundworkSettings settings, HttpContext http) =>
            {
                // Built from the request's Host: never let a shared cache keep one client's answer for another.
                http.Response.Headers.CacheControl = "no-store";
                var origin = $"{http.Request.Scheme}://{http.Request.Host}";
                return TypedResults.Json(new Dictionary<string, object>
                {
                    ["issuer"] = settings.Issuer,
                    ["jwks_uri"] = $"{origin}/.well-known/jwks.json",
                    ["token_endpoint"] = $"{origin}/api/v1/auth/login",
                    ["id_token_signing_alg_values_supported"] = new[] { "ES256" },
                    ["token_endpoint_auth_methods_supported"] = new[] { "none" },
                    ["grant_types_supported"] = new[] { "password", "refresh_token" },
                });
            })
            .WithName("OpenIdConfiguration").WithSummary("Discovery document (issuer, JWKS URL)")
            .Produces(StatusCodes.Status200OK, contentType: "application/json").ProducesErrors(429);
    }

    /// <summary>A JWK Set (RFC 7517 §5). Named, not anonymous, so the endpoint is generated at compile time (ADR 0023).</summary>
    internal sealed record JwkSet([property: System.Text.Json.Serialization.JsonPropertyName("keys")] List<Dictionary<string, string>> Keys);

    private static Dictionary<string, string> Jwk(ECDsaSecurityKey key)
    {
        var p = key.ECDsa.ExportParameters(includePrivateParameters: false);
        return new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(p.Q.X),
            ["y"] = Base64UrlEncoder.Encode(p.Q.Y),
            ["kid"] = key.KeyId,
            ["use"] = "sig",
            ["alg"] = "ES256",
        };
    }
}
