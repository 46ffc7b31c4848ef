using GraphQL;
using GraphQL.Types;
using Groundwork.Features.Users;
using Groundwork.Platform.GraphQLServer;
using Groundwork.Platform.Operations;

namespace Groundwork.Features.Posts;

/// <summary>GraphQL adapter for posts.</summary>
public static class PostsGraphQL
{
    /// <summary>The seed's unpaginated lists (<c>posts</c>, <c>User.posts</c>) stop here (docs/api/pagination.md).</summary>
    public const int MaxListed = ListPostsByAuthors.MaxPerAuthor;

    public static void AddQueries(ObjectGraphType query)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Field<PostType>("post")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<GetPost>(), new GetPostRequest(ctx.GetId())));

        query.Field<PostViewsType>("postViews")
            .Description("How often a post was read; written in batches, so it may lag by the write-behind interval across nodes.")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<GetPostViews>(), new GetPostViewsRequest(ctx.GetId())));

        query.Field<NonNullGraphType<ListGraphType<NonNullGraphType<PostType>>>>("posts")
            .Description($"Posts the caller may see, newest first, at most {MaxListed}; null `published` lists drafts the caller may see too.")
            .Argument<BooleanGraphType>("published", a => a.DefaultValue = true)
            .ListOfAtMost(MaxListed)
            .ResolveAsync(async ctx =>
            {
                var page = await ctx.RunAsync(ctx.Operation<ListPosts>(),
                    new ListPostsRequest(new PageRequest(1, MaxListed, "createdAt", SortOrder.Desc, CountTotal: false), ctx.GetArgument<bool?>("published")));
                return page.Items;
            });
    }

    /// <summary>Cursor connections page through everything the seed's bounded lists stop short of (docs/api/pagination.md).</summary>
    public static void AddConnections(ObjectGraphType query)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Field<NonNullGraphType<PostConnectionType>>("postsConnection")
            .Description("Posts the caller may see, newest first, by cursor: pass `pageInfo.endCursor` as `after`.")
            .SizeArgument("first")
            .Argument<StringGraphType>("after")
            .Argument<BooleanGraphType>("published", a => a.DefaultValue = true)
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<ListPostsByCursor>(), new ListPostsByCursorRequest(
                ctx.GetArgument("first", 20), ctx.GetArgument<string?>("after"), ctx.GetArgument<bool?>("published"))));
    }

    /// <summary><c>User.postsConnection</c>: one author's posts by cursor (one statement per user asked for).</summary>
    public static void AddAuthorConnection(ObjectGraphType<Users.UserDto> user)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.Field<NonNullGraphType<PostConnectionType>>("postsConnection")
            .Description("The user's posts the caller may see, newest first, by cursor.")
            .SizeArgument("first")
            .Argument<StringGraphType>("after")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<ListPostsByCursor>(), new ListPostsByCursorRequest(
                ctx.GetArgument("first", 20), ctx.GetArgument<string?>("after"), AuthorId: ctx.Source.Id)));
    }

    public static void AddSubscriptions(ObjectGraphType subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        subscription.Field<NonNullGraphType<PostType>>("postPublished")
            .Description("Every post as it is published (signed-in callers).")
            .ResolveStreamAsync(async ctx => await Events.EventSubscriptions.OpenAsync(ctx, ["post.published"], Events.EventSubscriptions.Data<PostDto>))
            .Resolve(ctx => ctx.Source);
    }

    public static void AddMutations(ObjectGraphType mutation)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        mutation.Field<NonNullGraphType<PostType>>("createPost")
            .Argument<NonNullGraphType<CreatePostInputType>>("input")
            .ResolveAsync(async ctx =>
            {
                var input = ctx.GetArgument<CreatePostInput>("input");
                return await ctx.RunAsync(ctx.Operation<CreatePost>(), new CreatePostRequest(input.Title, input.Content, input.Published ?? false));
            });
    }

    public static void AddPublishing(ObjectGraphType mutation)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        mutation.Field<NonNullGraphType<PostType>>("updatePost")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .Argument<NonNullGraphType<UpdatePostInputType>>("input")
            .ResolveAsync(async ctx =>
            {
                var input = ctx.GetArgument<UpdatePostInput>("input");
                return await ctx.RunAsync(ctx.Operation<UpdatePost>(), new UpdatePostRequest(ctx.GetId(), input.Title, input.Content));
            });
        mutation.Field<NonNullGraphType<BooleanGraphType>>("deletePost")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx =>
            {
                await ctx.RunAsync(ctx.Operation<DeletePost>(), new DeletePostRequest(ctx.GetId()));
                return true;
            });
        mutation.Field<NonNullGraphType<PostType>>("publishPost")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<PublishPost>(), new PublishPostRequest(ctx.GetId())));
        mutation.Field<NonNullGraphType<PostType>>("unpublishPost")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<UnpublishPost>(), new UnpublishPostRequest(ctx.GetId())));
    }
}

public sealed class PostType : ObjectGraphType<PostDto>
{
    public const string ContentField = "content";

    public PostType()
    {
        Name = "Post";
        Field<NonNullGraphType<IdGraphType>>("id").Resolve(ctx => ctx.Source.Id);
        Field<NonNullGraphType<StringGraphType>>("title").Resolve(ctx => ctx.Source.Title);
        // User.posts reads content from the database only when this field is selected (UsersGraphQL): a field derived
        // from the content must be selected by this name too, or be added to that check.
        Field<NonNullGraphType<StringGraphType>>(ContentField).Resolve(ctx => ctx.Source.Content);
        Field<NonNullGraphType<UserType>>("author").Resolve(ctx => ctx.LoadBatched(ctx.Operation<GetAuthors>(), ids => new GetAuthorsRequest(ids), ctx.Source.AuthorId));
        Field<NonNullGraphType<BooleanGraphType>>("published").Resolve(ctx => ctx.Source.Published);
        Field<NonNullGraphType<UtcDateTimeGraphType>>("createdAt").Resolve(ctx => ctx.Source.CreatedAt);
        Field<UtcDateTimeGraphType>("publishedAt").Resolve(ctx => ctx.Source.PublishedAt);
        Field<NonNullGraphType<UtcDateTimeGraphType>>("updatedAt").Resolve(ctx => ctx.Source.UpdatedAt);
    }
}

public sealed class PostConnectionType() : CursorConnectionType<PostType, PostDto>("PostConnection");

public sealed class CreatePostInput
{
    public string? Title { get; set; }
    public string? Content { get; set; }
    public bool? Published { get; set; }
}

public sealed class CreatePostInputType : InputObjectGraphType<CreatePostInput>
{
    public CreatePostInputType()
    {
        Name = "CreatePostInput";
        Field<NonNullGraphType<StringGraphType>>("title");
        Field<NonNullGraphType<StringGraphType>>("content");
        Field<BooleanGraphType>("published").DefaultValue(false);
    }
}

public sealed class UpdatePostInput
{
    public string? Title { get; set; }
    public string? Content { get; set; }
}

public sealed class UpdatePostInputType : InputObjectGraphType<UpdatePostInput>
{
    public UpdatePostInputType()
    {
        Name = "UpdatePostInput";
        Field<StringGraphType>("title");
        Field<StringGraphType>("content");
    }
}

public sealed class PostViewsType : ObjectGraphType<PostViewsDto>
{
    public PostViewsType()
    {
        Name = "PostViews";
        Field<NonNullGraphType<IdGraphType>>("postId").Resolve(ctx => ctx.Source.PostId);
        Field<NonNullGraphType<LongGraphType>>("views").Resolve(ctx => ctx.Source.Views);
    }
}
