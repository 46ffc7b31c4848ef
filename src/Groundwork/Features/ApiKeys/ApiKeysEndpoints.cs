using Groundwork.Platform.Http;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.ApiKeys;

public static class ApiKeysEndpoints
{
    public static void MapApiKeys(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/api-keys").WithTags("API keys").RequireAuthorization();

        keys.MapGet("/", (HttpContext http, [FromServices] ListApiKeys op) => Rest.RunAsync(http, op, new ListApiKeysRequest(), Rest.Data))
            .WithName("ListApiKeys").WithSummary("List your API keys")
            .Produces<DataEnvelope<IReadOnlyList<ApiKeyDto>>>()
            .ProducesErrors(401, 403);

        keys.MapPost("/", (HttpContext http, [FromServices] CreateApiKey op, CreateApiKeyRequest body) =>
                Rest.RunAsync(http, op, body, key => Rest.Created(http, $"/api/v1/api-keys/{key.Id}", key)))
            .WithName("CreateApiKey").WithSummary("Create an API key (the key is shown once)")
            .Produces<CreatedEnvelope<CreatedApiKeyDto>>(StatusCodes.Status201Created)
            .ProducesErrors(400, 401, 403, 413, 415);

        keys.MapGet("/{id:guid}", (HttpContext http, [FromServices] GetApiKey op, Guid id) =>
                Rest.RunAsync(http, op, new GetApiKeyRequest(id), Rest.Data))
            .WithName("GetApiKey").WithSummary("Get an API key's details")
            .Produces<DataEnvelope<ApiKeyDto>>()
            .ProducesErrors(401, 403, 404);

        keys.MapDelete("/{id:guid}", (HttpContext http, [FromServices] RevokeApiKey op, Guid id) =>
                Rest.RunAsync(http, op, new RevokeApiKeyRequest(id), Rest.NoContent))
            .WithName("RevokeApiKey").WithSummary("Revoke an API key")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(401, 403, 404);
    }
}
