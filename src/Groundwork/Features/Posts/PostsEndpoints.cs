using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.Posts;

public static class PostsEndpoints
{
    public static void MapPosts(this RouteGroupBuilder api)
    {
        var posts = api.MapGroup("/posts").WithTags("Posts");

        posts.MapGet("/", (HttpContext http, [FromServices] ListPosts op, [FromServices] ListPostsByCursor byCursor) => List(http, op, byCursor, null))
            .AllowAnonymous().WithName("ListPosts").WithSummary("List published posts (filters, search, sorting)").Produces<PageEnvelope<PostDto>>().Produces<CursorEnvelope<PostDto>>().ProducesErrors(400);

        api.MapGet("/users/{userId:guid}/posts", (HttpContext http, [FromServices] ListPosts op, [FromServices] ListPostsByCursor byCursor, Guid userId) => List(http, op, byCursor, userId))
            .AllowAnonymous().WithTags("Posts").WithName("ListUserPosts").WithSummary("List a user's posts").Produces<PageEnvelope<PostDto>>().Produces<CursorEnvelope<PostDto>>().ProducesErrors(400);

        posts.MapPost("/", (HttpContext http, [FromServices] CreatePost op, CreatePostRequest body) =>
                Rest.RunAsync(http, op, body, post => Rest.Created(http, $"/api/v1/posts/{post.Id}", post)))
            .RequireAuthorization().WithName("CreatePost").WithSummary("Create a post (a draft unless published)")
            .Produces<CreatedEnvelope<PostDto>>(StatusCodes.Status201Created).ProducesErrors(400, 401, 403, 409, 413, 415, 422);

        posts.MapGet("/{id:guid}", (HttpContext http, [FromServices] GetPost op, Guid id) =>
                Rest.RunAsync(http, op, new GetPostRequest(id), post => Rest.DataWithETag(http, post, post.Version)))
            .AllowAnonymous().WithName("GetPost").WithSummary("Get a post (drafts only for their author and admins)").Produces<DataEnvelope<PostDto>>().Produces(StatusCodes.Status304NotModified).ProducesErrors(404);

        posts.MapGet("/{id:guid}/views", (HttpContext http, [FromServices] GetPostViews op, Guid id) =>
                Rest.RunAsync(http, op, new GetPostViewsRequest(id), views => Rest.Data(views)))
            .AllowAnonymous().WithName("GetPostViews").WithSummary("How many times a post was viewed").Produces<DataEnvelope<PostViewsDto>>().ProducesErrors(404);

        posts.MapPatch("/{id:guid}", (HttpContext http, [FromServices] UpdatePost op, Guid id, UpdatePostBody body) =>
                Rest.RunAsync(http, op, new UpdatePostRequest(id, body.Title, body.Content, Rest.IfMatchVersion(http)),
                    post => Rest.DataWithETag(http, post, post.Version)))
            .RequireAuthorization().WithName("UpdatePost").WithSummary("Update a post (author or admin)").Produces<DataEnvelope<PostDto>>().ProducesErrors(400, 401, 403, 404, 409, 412, 413, 415);

        posts.MapDelete("/{id:guid}", (HttpContext http, [FromServices] DeletePost op, Guid id) =>
                Rest.RunAsync(http, op, new DeletePostRequest(id, Rest.IfMatchVersion(http)), Rest.NoContent))
            .RequireAuthorization().WithName("DeletePost").WithSummary("Delete a post (author or admin)").Produces(StatusCodes.Status204NoContent).ProducesErrors(401, 403, 404, 412);

        posts.MapPost("/{id:guid}/publish", (HttpContext http, [FromServices] PublishPost op, Guid id) =>
                Rest.RunAsync(http, op, new PublishPostRequest(id), post => Rest.DataWithETag(http, post, post.Version)))
            .RequireAuthorization().WithName("PublishPost").WithSummary("Publish a post").Produces<DataEnvelope<PostDto>>().ProducesErrors(401, 403, 404);

        posts.MapPost("/{id:guid}/unpublish", (HttpContext http, [FromServices] UnpublishPost op, Guid id) =>
                Rest.RunAsync(http, op, new UnpublishPostRequest(id), post => Rest.DataWithETag(http, post, post.Version)))
            .RequireAuthorization().WithName("UnpublishPost").WithSummary("Take a post down (back to draft)").Produces<DataEnvelope<PostDto>>().ProducesErrors(401, 403, 404);
    }

    /// <summary>Offset pages by default; a <c>cursor</c> or <c>after</c> parameter (empty: from the top) switches to keyset pages (docs/api/errors.md).</summary>
    private static Task<IResult> List(HttpContext http, ListPosts op, ListPostsByCursor byCursor, Guid? author)
    {
        if (http.Request.Query.ContainsKey("cursor") || http.Request.Query.ContainsKey("after"))
        {
            var cursorQuery = author is null
                ? QueryReader.ForCursor(http, "cursor", "after", "published", "authorId")
                : QueryReader.ForCursor(http, "cursor", "after", "published");
            var cursorRequest = new ListPostsByCursorRequest(
                cursorQuery.Int("limit") ?? 20,
                // An empty cursor starts a cursor list from the top.
                NonEmpty(cursorQuery.String("cursor")) ?? NonEmpty(cursorQuery.String("after")),
                cursorQuery.Parse<bool>("published", bool.TryParse, "true, false"),
                author ?? cursorQuery.Parse<Guid>("authorId", Guid.TryParse, "a user id"));
            return Rest.RunAsync(http, cursorQuery, byCursor, cursorRequest, page => Rest.CursorPage(http, page));
        }

        var query = author is null ? new QueryReader(http, "published", "authorId", "q") : new QueryReader(http, "published", "q");
        var request = new ListPostsRequest(
            query.Page(),
            query.Parse<bool>("published", bool.TryParse, "true, false"),
            author ?? query.Parse<Guid>("authorId", Guid.TryParse, "a user id"),
            query.String("q"));
        return Rest.RunAsync(http, query, op, request, page => Rest.Page(http, page));
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public sealed record UpdatePostBody(string? Title, string? Content);
}
