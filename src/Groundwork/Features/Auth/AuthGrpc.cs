using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Platform.GrpcServer;
using TokenPairMessage = Groundwork.Api.V1.TokenPair;

namespace Groundwork.Features.Auth;

/// <summary>gRPC adapter for sign-in (api/protos/groundwork/v1/auth.proto): the same Login and Refresh as REST.</summary>
public sealed class AuthGrpc : AuthService.AuthServiceBase
{
    public override async Task<TokenPairMessage> Login(Api.V1.LoginRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<Login>(), new LoginRequest(request.Email, request.Password)));

    public override async Task<TokenPairMessage> Refresh(Api.V1.RefreshRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<Refresh>(), new RefreshRequest(request.RefreshToken)));

    private static TokenPairMessage ToMessage(TokenPair pair) => new()
    {
        AccessToken = pair.AccessToken,
        TokenType = pair.TokenType,
        ExpiresIn = pair.ExpiresIn,
        RefreshToken = pair.RefreshToken,
        RefreshTokenExpiresAt = GrpcOperations.Time(pair.RefreshTokenExpiresAt),
    };
}
