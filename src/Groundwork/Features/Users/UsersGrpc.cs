using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Features.Auth;
using Groundwork.Platform.GrpcServer;
using Role = Groundwork.Platform.Auth.Role;
using UserMessage = Groundwork.Api.V1.User;

namespace Groundwork.Features.Users;

/// <summary>gRPC adapter for users (api/protos/groundwork/v1/users.proto): translation only.</summary>
public sealed class UsersGrpc : UserService.UserServiceBase
{
    public override async Task<UserMessage> GetMe(GetMeRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<Me>(), new MeRequest()));

    public override async Task<UserMessage> GetUser(Api.V1.GetUserRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<GetUser>(), new GetUserRequest(GrpcOperations.ParseId(request.Id, "id"))));

    public override async Task<ListUsersResponse> ListUsers(Api.V1.ListUsersRequest request, ServerCallContext context)
    {
        var page = await context.RunAsync(context.Operation<ListUsers>(), new ListUsersRequest(
            GrpcPaging.ToPageRequest(request.Page), FromMessage(request.Role), request.Q is { Length: > 0 } q ? q : null));
        return new ListUsersResponse { Users = { page.Items.Select(ToMessage) }, PageInfo = GrpcPaging.ToPageInfo(page) };
    }

    public override async Task<UserMessage> CreateUser(Api.V1.CreateUserRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<CreateUser>(), new CreateUserRequest(request.Email, request.Name, request.Password, FromMessage(request.Role))));

    public override async Task<UserMessage> UpdateUser(Api.V1.UpdateUserRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<UpdateUser>(), new UpdateUserRequest(
            GrpcOperations.ParseId(request.Id, "id"),
            request.HasEmail ? request.Email : null,
            request.HasName ? request.Name : null,
            FromMessage(request.Role))));

    public override async Task<Empty> DeleteUser(Api.V1.DeleteUserRequest request, ServerCallContext context)
    {
        await context.RunAsync(context.Operation<DeleteUser>(), new DeleteUserRequest(GrpcOperations.ParseId(request.Id, "id")));
        return new Empty();
    }

    public static UserMessage ToMessage(UserDto user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new UserMessage
        {
            Id = user.Id.ToString(),
            Email = user.Email,
            Name = user.Name,
            Role = user.Role switch
            {
                Role.Admin => Api.V1.Role.Admin,
                Role.Moderator => Api.V1.Role.Moderator,
                _ => Api.V1.Role.User,
            },
            CreatedAt = GrpcOperations.Time(user.CreatedAt),
            UpdatedAt = GrpcOperations.Time(user.UpdatedAt),
        };
    }

    /// <summary>
    /// ROLE_UNSPECIFIED is no role given; a number the enum does not define (protobuf keeps unknown enum values) is
    /// refused, not read as "not given": <c>role: 99</c> created a plain user and listed every user.
    /// </summary>
    private static Role? FromMessage(Api.V1.Role role) => role switch
    {
        Api.V1.Role.Unspecified => null,
        Api.V1.Role.User => Role.User,
        Api.V1.Role.Moderator => Role.Moderator,
        Api.V1.Role.Admin => Role.Admin,
        _ => throw GrpcOperations.ToRpcException(Platform.Operations.Error.Validation("role", "Must be ROLE_USER, ROLE_MODERATOR or ROLE_ADMIN"), requestId: null),
    };
}
