using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Http;

/// <summary>Writes the error envelope (docs/api/errors.md); every REST error, the framework's own included, goes through here.</summary>
public static class RestErrors
{
    public static async Task WriteAsync(HttpContext context, Error error)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(error);
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = error.Code.HttpStatus();
        WriteHeaders(response, error);

        var body = new ErrorEnvelope(new ErrorBody(
            error.Code.WireName(), error.Message, error.Details ?? [], context.TraceIdentifier));
        try
        {
            await response.WriteAsJsonAsync(body, Json.Options, "application/json; charset=utf-8", context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client closed the connection (often mid-body, which is what failed): nobody reads this answer.
            // Thrown on, it would fail the exception handler and log the client's leaving as two server errors.
        }
    }

    /// <summary>The headers an error brings on any HTTP transport: <c>WWW-Authenticate</c> for 401, <c>RateLimit</c> and <c>Retry-After</c> for 429, <c>Retry-After</c> for a busy node's 503.</summary>
    public static void WriteHeaders(HttpResponse response, Error error)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(error);
        if (error.Code == ErrorCode.AuthenticationError)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"groundwork\"";
        }

        if (error.RateLimit is { } limit)
        {
            RateLimiting.RateLimitHeaders.Write(response, limit);
        }
        else if (error.RetryAfterSeconds is { } retry)
        {
            response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Routes whose answers carry credentials (tokens, API-key and webhook secrets, sessions): never stored by caches.</summary>
    public static bool IsCredentialPath(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api/v1/auth", StringComparison.OrdinalIgnoreCase)
        || context.Request.Path.StartsWithSegments("/api/v1/api-keys", StringComparison.OrdinalIgnoreCase)
        || context.Request.Path.StartsWithSegments("/api/v1/webhooks", StringComparison.OrdinalIgnoreCase);

    /// <summary>An <see cref="IResult"/> for endpoints that return an operation's error.</summary>
    public static IResult ToResult(this Error error) => new ErrorResult(error);

    private sealed class ErrorResult(Error error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, error);
    }
}
