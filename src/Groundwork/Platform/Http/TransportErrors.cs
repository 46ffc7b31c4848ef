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
            // A trailers-only gRPC response: HTTP 200 whose headers carry the status.
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = ((int)GrpcServer.GrpcOperations.StatusFor(error)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(error.Message);
            RestErrors.WriteHeaders(response, error);
            return Task.CompletedTask;
        }

        return context.Request.Path.StartsWithSegments(GraphQLServer.GraphQLEndpoint.Path, StringComparison.OrdinalIgnoreCase)
            ? GraphQLServer.GraphQLEndpoint.WriteRejectionAsync(context, error)
            : RestErrors.WriteAsync(context, error);
    }
}
