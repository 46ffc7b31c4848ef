using Grpc.Core;
using Grpc.Core.Interceptors;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GrpcServer;

/// <summary>
/// Any exception that escapes a gRPC service becomes a bare INTERNAL status (logged here, never sent). The default
/// rate limit is the HTTP middleware's, as for every transport; a credential that failed is refused by the
/// pipeline's policy step.
/// </summary>
public sealed class GrpcServerInterceptor(ILogger<GrpcServerInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return GuardAsync(context, () => continuation(request, context));
    }

    /// <summary>Streams (EventService.Subscribe) fail the same way unary calls do.</summary>
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return GuardAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });
    }

    private async Task<T> GuardAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.GetHttpContext();
        try
        {
            return await call();
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
