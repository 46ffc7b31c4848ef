using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Http;

/// <summary>
/// An error raised before any endpoint runs (rate limits in middleware), answered in the shape of the transport
/// the request came in on: a gRPC status, a GraphQL response, or the REST envelope.
/// </summary>
public static class TransportErrors
{
    public static Task WriteAsync(HttpContext context, Error error)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(error);
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            // A trailers-only gRPC response: HTTP 200 whose headers carry the status, with the same rich details
            // (ErrorInfo, RetryInfo) a service's error would have.
            var response = context.Response;
            var status = GrpcServer.GrpcOperations.ToRpcStatus(error, context.TraceIdentifier);
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = status.Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(error.Message);
            response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(Google.Protobuf.MessageExtensions.ToByteArray(status));
            RestErrors.WriteHeaders(response, error);
            return Task.CompletedTask;
        }

        return context.Request.Path.StartsWithSegments(GraphQLServer.GraphQLEndpoint.Path, StringComparison.OrdinalIgnoreCase)
            ? GraphQLServer.GraphQLEndpoint.WriteRejectionAsync(context, error)
            : RestErrors.WriteAsync(context, error);
    }
}
