using Grpc.Core;
using Grpc.Core.Interceptors;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.RateLimiting;

namespace Groundwork.Platform.GrpcServer;

/// <summary>
/// What the HTTP middleware does for REST, for gRPC calls: the default per-principal rate limit, and any
/// exception that escapes a service turned into a bare INTERNAL status (logged here, never sent). A credential that
/// failed is refused by the pipeline's policy step, as on every transport.
/// </summary>
public sealed class GrpcServerInterceptor(RateLimiter limiter, GroundworkSettings settings, ILogger<GrpcServerInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        var http = context.GetHttpContext();
        var decision = limiter.TryAcquire("default", http.ToCaller().PrincipalKey, settings.RateLimits.Default);
        if (!decision.Allowed)
        {
            throw GrpcOperations.ToRpcException(Error.RateLimited(decision), http.TraceIdentifier);
        }

        try
        {
            return await continuation(request, context);
        }
        catch (RpcException)
        {
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client's deadline passed or it went away; the database work was cancelled with it.
            throw new RpcException(new Status(context.Deadline <= DateTime.UtcNow ? StatusCode.DeadlineExceeded : StatusCode.Cancelled, "The call was cancelled"));
        }
        catch (Exception e)
        {
            logger.LogError(e, "gRPC call {Method} failed", context.Method);
            throw GrpcOperations.ToRpcException(new Error(ErrorCode.InternalError, "Internal server error"), http.TraceIdentifier);
        }
    }
}
