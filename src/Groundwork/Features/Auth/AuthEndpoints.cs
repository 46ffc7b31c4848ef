using Groundwork.Features.Users;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.Auth;

/// <summary>REST adapter for sign-up, sign-in and sessions. Responses carry <c>Cache-Control: no-store</c>.</summary>
public static class AuthEndpoints
{
    public static void MapAuth(this RouteGroupBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Auth");

        auth.MapPost("/register", (HttpContext http, [FromServices] Register op, RegisterRequest body) =>
                Rest.RunAsync(http, op, body, user => Rest.Created(http, $"/api/v1/users/{user.Id}", user, user.Version)))
            .AllowAnonymous()
            .WithName("Register").WithSummary("Sign up")
            .Produces<CreatedEnvelope<UserDto>>(StatusCodes.Status201Created)
            .ProducesErrors(400, 409, 413, 415);

        auth.MapPost("/login", (HttpContext http, [FromServices] Login op, LoginRequest body) =>
                Rest.RunAsync(http, op, body, pair => TypedResults.Json(pair, Json.Options)))
            .AllowAnonymous()
            .WithName("Login").WithSummary("Sign in: an access token and a refresh token")
            .Produces<TokenPair>()
            .ProducesErrors(400, 401, 413, 415);

        auth.MapPost("/refresh", (HttpContext http, [FromServices] Refresh op, RefreshRequest body) =>
                Rest.RunAsync(http, op, body, pair => TypedResults.Json(pair, Json.Options)))
            .AllowAnonymous()
            .WithName("Refresh").WithSummary("Exchange a refresh token for new tokens (rotation)")
            .Produces<TokenPair>()
            .ProducesErrors(400, 401, 413, 415);

        auth.MapPost("/logout", (HttpContext http, [FromServices] Logout op, LogoutRequest? body) =>
                Rest.RunAsync(http, op, body ?? new LogoutRequest(), Rest.NoContent))
            .RequireAuthorization()
            .WithName("Logout").WithSummary("Sign out: revoke this session")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(400, 401, 403, 404);

        auth.MapGet("/me", (HttpContext http, [FromServices] Me op) =>
                Rest.RunAsync(http, op, new MeRequest(), user => Rest.DataWithETag(http, user, user.Version)))
            .RequireAuthorization()
            .WithName("Me").WithSummary("The signed-in user")
            .Produces<DataEnvelope<UserDto>>()
            .ProducesErrors(401);

        auth.MapGet("/sessions", (HttpContext http, [FromServices] ListSessions op) =>
                Rest.RunAsync(http, op, new ListSessionsRequest(), Rest.Data))
            .RequireAuthorization()
            .WithName("ListSessions").WithSummary("List your active sessions")
            .Produces<DataEnvelope<IReadOnlyList<SessionDto>>>()
            .ProducesErrors(401, 403);

        auth.MapDelete("/sessions/{id:guid}", (HttpContext http, [FromServices] RevokeSession op, Guid id) =>
                Rest.RunAsync(http, op, new RevokeSessionRequest(id), Rest.NoContent))
            .RequireAuthorization()
            .WithName("RevokeSession").WithSummary("Revoke one of your sessions")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(401, 403, 404);

        auth.MapPost("/password", (HttpContext http, [FromServices] ChangePassword op, ChangePasswordRequest body) =>
                Rest.RunAsync(http, op, body, Rest.NoContent))
            .RequireAuthorization()
            .WithName("ChangePassword").WithSummary("Change your password (other sessions are revoked)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(400, 401, 403, 413, 415);
    }
}
