using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Platform.GrpcServer;
using PostMessage = Groundwork.Api.V1.Post;

namespace Groundwork.Features.Posts;

/// <summary>gRPC adapter for posts (api/protos/groundwork/v1/posts.proto): translation only.</summary>
public sealed class PostsGrpc : PostService.PostServiceBase
{
    public override async Task<Api.V1.PostViews> GetPostViews(Api.V1.GetPostRequest request, ServerCallContext context)
    {
        var views = await context.RunAsync(context.Operation<GetPostViews>(), new GetPostViewsRequest(GrpcOperations.ParseId(request.Id, "id")));
        return new Api.V1.PostViews { PostId = views.PostId.ToString(), Views = views.Views };
    }

    public override async Task<PostMessage> GetPost(Api.V1.GetPostRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<GetPost>(), new GetPostRequest(GrpcOperations.ParseId(request.Id, "id"))));

    public override async Task<ListPostsResponse> ListPosts(Api.V1.ListPostsRequest request, ServerCallContext context)
    {
        var page = await context.RunAsync(context.Operation<ListPosts>(), new ListPostsRequest(
            GrpcPaging.ToPageRequest(request.Page),
            request.HasPublished ? request.Published : null,
            GrpcOperations.ParseOptionalId(request.AuthorId, "authorId"),
            request.Q is { Length: > 0 } q ? q : null));
        return new ListPostsResponse { Posts = { page.Items.Select(ToMessage) }, PageInfo = GrpcPaging.ToPageInfo(page) };
    }

    public override async Task<PostMessage> CreatePost(Api.V1.CreatePostRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<CreatePost>(), new CreatePostRequest(request.Title, request.Content, request.Published)));

    public override async Task<PostMessage> UpdatePost(Api.V1.UpdatePostRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<UpdatePost>(), new UpdatePostRequest(
            GrpcOperations.ParseId(request.Id, "id"), request.HasTitle ? request.Title : null, request.HasContent ? request.Content : null)));

    public override async Task<Empty> DeletePost(Api.V1.DeletePostRequest request, ServerCallContext context)
    {
        await context.RunAsync(context.Operation<DeletePost>(), new DeletePostRequest(GrpcOperations.ParseId(request.Id, "id")));
        return new Empty();
    }

    public override async Task<PostMessage> PublishPost(Api.V1.PublishPostRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<PublishPost>(), new PublishPostRequest(GrpcOperations.ParseId(request.Id, "id"))));

    public override async Task<PostMessage> UnpublishPost(Api.V1.UnpublishPostRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<UnpublishPost>(), new UnpublishPostRequest(GrpcOperations.ParseId(request.Id, "id"))));

    private static PostMessage ToMessage(PostDto post) => new()
    {
        Id = post.Id.ToString(),
        AuthorId = post.AuthorId.ToString(),
        Title = post.Title,
        Content = post.Content,
        Published = post.Published,
        PublishedAt = GrpcOperations.Time(post.PublishedAt),
        CreatedAt = GrpcOperations.Time(post.CreatedAt),
        UpdatedAt = GrpcOperations.Time(post.UpdatedAt),
    };
}
