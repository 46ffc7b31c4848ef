using GraphQL;
using GraphQL.Types;
using Groundwork.Features.Auth;
using Groundwork.Features.Posts;
using Groundwork.Platform.Auth;
using Groundwork.Platform.GraphQLServer;
using Groundwork.Platform.Operations;

namespace Groundwork.Features.Users;

/// <summary>GraphQL adapter for users: the seed schema's types and fields, each one translation over an operation.</summary>
public static class UsersGraphQL
{
    public static void AddQueries(ObjectGraphType query)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Field<UserType>("user")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<GetUser>(), new GetUserRequest(ctx.GetId())));

        query.Field<NonNullGraphType<UserConnectionType>>("users")
            .PageArgument()
            .SizeArgument("limit")
            .Argument<UserRoleType>("role")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<ListUsers>(), new ListUsersRequest(
                ctx.PageRequest(), ctx.GetArgument<Role?>("role"))));
    }

    public static void AddMeQuery(ObjectGraphType query)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Field<NonNullGraphType<UserType>>("me")
            .Description("The signed-in user.")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<Me>(), new MeRequest()));
    }

    public static void AddMutations(ObjectGraphType mutation)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        mutation.Field<NonNullGraphType<UserType>>("createUser")
            .Argument<NonNullGraphType<CreateUserInputType>>("input")
            .ResolveAsync(async ctx =>
            {
                var input = ctx.GetArgument<CreateUserInput>("input");
                return await ctx.RunAsync(ctx.Operation<CreateUser>(), new CreateUserRequest(input.Email, input.Name, input.Password, input.Role));
            });

        mutation.Field<NonNullGraphType<UserType>>("updateUser")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .Argument<NonNullGraphType<UpdateUserInputType>>("input")
            .ResolveAsync(async ctx =>
            {
                var input = ctx.GetArgument<UpdateUserInput>("input");
                return await ctx.RunAsync(ctx.Operation<UpdateUser>(), new UpdateUserRequest(ctx.GetId(), input.Email, input.Name, input.Role));
            });

        mutation.Field<NonNullGraphType<BooleanGraphType>>("deleteUser")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx =>
            {
                await ctx.RunAsync(ctx.Operation<DeleteUser>(), new DeleteUserRequest(ctx.GetId()));
                return true;
            });
    }
}

/// <summary><c>enum UserRole { USER ADMIN MODERATOR }</c>, in the seed's order.</summary>
public sealed class UserRoleType : EnumerationGraphType
{
    public UserRoleType()
    {
        Name = "UserRole";
        Add("USER", Role.User);
        Add("ADMIN", Role.Admin);
        Add("MODERATOR", Role.Moderator);
    }
}

public sealed class UserType : ObjectGraphType<UserDto>
{
    private const string PostsWithContentBatch = nameof(ListPostsByAuthors) + "+content";
    private const string PostsWithoutContentBatch = nameof(ListPostsByAuthors) + "-content";

    public UserType()
    {
        Name = "User";
        Field<NonNullGraphType<IdGraphType>>("id").Resolve(ctx => ctx.Source.Id);
        // A user reached through a post (its author) is public, but the address is not: only the user and staff see it.
        Field<NonNullGraphType<StringGraphType>>("email").Resolve(ctx =>
            UserAccess.CanReadPrivateFields(ctx.Caller(), ctx.Source.Id)
                ? ctx.Source.Email
                : throw new OperationException(Error.Forbidden("Only the user and staff may read the email address")));
        Field<NonNullGraphType<StringGraphType>>("name").Resolve(ctx => ctx.Source.Name);
        // Like the address, the role of a user reached as a post's author is for that user and staff only.
        Field<NonNullGraphType<UserRoleType>>("role").Resolve(ctx =>
            UserAccess.CanReadPrivateFields(ctx.Caller(), ctx.Source.Id)
                ? ctx.Source.Role
                : throw new OperationException(Error.Forbidden("Only the user and staff may read the role")));
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<PostType>>>>("posts")
            .Description($"The user's posts the caller may see, newest first, at most {ListPostsByAuthors.MaxPerAuthor}.")
            .ListOfAtMost(ListPostsByAuthors.MaxPerAuthor)
            .Resolve(ctx =>
            {
                // Content is most of a post's size; it is loaded only when the selection reads it, and then no more
                // of it than the response may still hold.
                var request = ctx.Request();
                var withContent = request.Selects(ctx, PostType.ContentField);
                return ctx.LoadBatched(
                    ctx.Operation<ListPostsByAuthors>(),
                    ids => new ListPostsByAuthorsRequest(ids, withContent) { MaxContentChars = request.Budget?.TextCharsLeft ?? long.MaxValue },
                    ctx.Source.Id,
                    withContent ? PostsWithContentBatch : PostsWithoutContentBatch);
            });
        Field<NonNullGraphType<UtcDateTimeGraphType>>("createdAt").Resolve(ctx => ctx.Source.CreatedAt);
        Field<NonNullGraphType<UtcDateTimeGraphType>>("updatedAt").Resolve(ctx => ctx.Source.UpdatedAt);
        PostsGraphQL.AddAuthorConnection(this);
    }
}

public sealed class UserConnectionType() : PageConnectionType<UserType, UserDto>("UserConnection");

public sealed class CreateUserInput
{
    public string? Email { get; set; }
    public string? Name { get; set; }
    public string? Password { get; set; }
    public Role? Role { get; set; }
}

public sealed class CreateUserInputType : InputObjectGraphType<CreateUserInput>
{
    public CreateUserInputType()
    {
        Name = "CreateUserInput";
        Field<NonNullGraphType<StringGraphType>>("email");
        Field<NonNullGraphType<StringGraphType>>("name");
        Field<NonNullGraphType<StringGraphType>>("password");
        Field<UserRoleType>("role").DefaultValue(Role.User);
    }
}

public sealed class UpdateUserInput
{
    public string? Email { get; set; }
    public string? Name { get; set; }
    public Role? Role { get; set; }
}

public sealed class UpdateUserInputType : InputObjectGraphType<UpdateUserInput>
{
    public UpdateUserInputType()
    {
        Name = "UpdateUserInput";
        Field<StringGraphType>("email");
        Field<StringGraphType>("name");
        Field<UserRoleType>("role");
    }
}
