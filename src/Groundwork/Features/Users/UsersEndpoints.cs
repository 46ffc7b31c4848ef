using Groundwork.Platform.Auth;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.Users;

/// <summary>REST adapter for users: translation only; decisions live in the operations.</summary>
public static class UsersEndpoints
{
    public static void MapUsers(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users").RequireAuthorization();

        users.MapGet("/", (HttpContext http, [FromServices] ListUsers op) =>
            {
                var query = new QueryReader(http, "role", "q", "createdAfter", "createdBefore");
                var request = new ListUsersRequest(
                    query.Page(),
                    query.Parse<Role>("role", WireEnums.TryParse, string.Join(", ", WireEnums.NamesOf(typeof(Role)))),
                    query.String("q"),
                    query.Date("createdAfter"),
                    query.Date("createdBefore"));
                return Rest.RunAsync(http, query, op, request, page => Rest.Page(http, page));
            })
            .WithName("ListUsers").WithSummary("List users (admins)")
            .Produces<PageEnvelope<UserDto>>()
            .ProducesErrors(400, 401, 403);

        users.MapPost("/", (HttpContext http, [FromServices] CreateUser op, CreateUserRequest body) =>
                Rest.RunAsync(http, op, body, user => Rest.Created(http, $"/api/v1/users/{user.Id}", user, user.Version)))
            .WithName("CreateUser").WithSummary("Create a user (admins)")
            .Produces<CreatedEnvelope<UserDto>>(StatusCodes.Status201Created)
            .ProducesErrors(400, 401, 403, 409, 413, 415);

        users.MapGet("/{id:guid}", (HttpContext http, [FromServices] GetUser op, Guid id) =>
                Rest.RunAsync(http, op, new GetUserRequest(id), user => Rest.DataWithETag(http, user, user.Version)))
            .WithName("GetUser").WithSummary("Get a user (yourself, or anyone as an admin)")
            .Produces<DataEnvelope<UserDto>>()
            .Produces(StatusCodes.Status304NotModified)
            .ProducesErrors(401, 403, 404);

        users.MapPatch("/{id:guid}", (HttpContext http, [FromServices] UpdateUser op, Guid id, UpdateUserBody body) =>
                Rest.RunAsync(http, op, new UpdateUserRequest(id, body.Email, body.Name, body.Role, Rest.IfMatchVersion(http)),
                    user => Rest.DataWithETag(http, user, user.Version)))
            .WithName("UpdateUser").WithSummary("Update a user (If-Match for optimistic concurrency)")
            .Produces<DataEnvelope<UserDto>>()
            .ProducesErrors(400, 401, 403, 404, 409, 412, 413, 415);

        users.MapDelete("/{id:guid}", (HttpContext http, [FromServices] DeleteUser op, Guid id) =>
                Rest.RunAsync(http, op, new DeleteUserRequest(id, Rest.IfMatchVersion(http)), Rest.NoContent))
            .WithName("DeleteUser").WithSummary("Delete a user (soft delete; their sessions and API keys end at once)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(401, 403, 404, 409, 412);
    }

    /// <summary>The PATCH body: only these fields exist; anything else is refused as unknown.</summary>
    public sealed record UpdateUserBody(string? Email, string? Name, Role? Role);
}
