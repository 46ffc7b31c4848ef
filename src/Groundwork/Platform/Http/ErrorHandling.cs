using System.Data.Common;
using System.Text.Json;
using System.Text.RegularExpressions;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Diagnostics;

namespace Groundwork.Platform.Http;

/// <summary>
/// Turns everything that is not an operation's own <see cref="Error"/> into the envelope: the framework's
/// answers (unknown route, 405, 413, 415, malformed JSON) and exceptions. No exception text reaches a client.
/// </summary>
public static partial class ErrorHandling
{
    public const long MaxBodyBytes = 1024 * 1024;

    public static IApplicationBuilder UseGroundworkErrorHandling(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = HandleExceptionAsync,
            AllowStatusCode404Response = true,
            // Client mistakes are answered with a 400/413/415, not logged as server errors with a stack trace.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException or JsonException,
        });

        // Framework answers with no body (routing's 404 and 405, the authorization middleware's 401/403).
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            var code = ErrorCodes.FromHttpStatus(status);
            var message = code switch
            {
                ErrorCode.NotFound => "Resource not found",
                ErrorCode.MethodNotAllowed => $"Method {http.Request.Method} is not allowed here",
                ErrorCode.UnsupportedMediaType => "Content-Type must be application/json",
                ErrorCode.PayloadTooLarge => "Request body exceeds 1 MiB",
                ErrorCode.AuthenticationError => "Authentication required",
                ErrorCode.AuthorizationError => "You are not allowed to perform this action",
                _ => "Request failed",
            };
            return RestErrors.WriteAsync(http, new Error(code, message));
        });

        // Refuse declared oversize bodies before reading a byte; Kestrel's MaxRequestBodySize stops the rest.
        app.Use(async (context, next) =>
        {
            if (context.Request.ContentLength > MaxBodyBytes)
            {
                await RestErrors.WriteAsync(context, new Error(ErrorCode.PayloadTooLarge, "Request body exceeds 1 MiB"));
                return;
            }

            await next(context);
        });

        return app;
    }

    /// <summary>
    /// JSON bodies are UTF-8. A quoted <c>charset="utf-8"</c> (legal, but the framework's reader cannot parse it) is
    /// normalized; any other charset is a 415 here, instead of an exception deep in body binding.
    /// </summary>
    public static IApplicationBuilder UseUtf8Bodies(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var contentType) || !contentType.Charset.HasValue)
            {
                return next(context);
            }

            var charset = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(contentType.Charset);
            if (!charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            {
                return RestErrors.WriteAsync(context, new Error(ErrorCode.UnsupportedMediaType, "Only the utf-8 charset is supported"));
            }

            contentType.Charset = "utf-8";
            context.Request.ContentType = contentType.ToString();
            return next(context);
        });

    /// <summary>
    /// Lets "no such route" (404) and "no such method" (405) answer as such before authorization, which would
    /// otherwise turn every unknown URL into a 401 under the deny-by-default fallback policy.
    /// </summary>
    public static IApplicationBuilder UseUnmatchedRouteAnswers(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var endpoint = context.GetEndpoint();
            if (endpoint is null)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            // Routing's own 405 endpoint is the only non-route endpoint in this app.
            return endpoint is not RouteEndpoint && endpoint.RequestDelegate is { } framework ? framework(context) : next(context);
        });

    private static async Task HandleExceptionAsync(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Groundwork.Errors");
        if (exception is OperationCanceledException && context.RequestServices.GetRequiredService<Hosting.GracefulShutdown>().Stopping)
        {
            // The node is stopping and Kestrel cut a request still waiting for its body: nothing ran, retry elsewhere.
            logger.LogInformation("A request still sending its body was cut short by the shutdown");
            await RestErrors.WriteAsync(context, new Error(ErrorCode.ServiceUnavailable, "This node is shutting down, retry"));
            return;
        }

        var error = Classify(exception);
        if (error.Code is ErrorCode.InternalError or ErrorCode.ServiceUnavailable)
        {
            logger.LogError(exception, "Request failed with {Code}", error.Code.WireName());
        }

        await RestErrors.WriteAsync(context, error);
    }

    internal static Error Classify(Exception? exception) => exception switch
    {
        BadHttpRequestException bad => FromBadRequest(bad),
        JsonException json => FromJson(json),
        TimeoutException or DbException { IsTransient: true } =>
            new Error(ErrorCode.ServiceUnavailable, "A dependency is unavailable, retry later"),
        _ when IsDatabaseDown(exception) => new Error(ErrorCode.ServiceUnavailable, "A dependency is unavailable, retry later"),
        _ => new Error(ErrorCode.InternalError, "An unexpected error occurred"),
    };

    private static bool IsDatabaseDown(Exception? exception) =>
        exception is Npgsql.NpgsqlException { InnerException: System.Net.Sockets.SocketException or IOException or TimeoutException }
        || exception?.InnerException is Npgsql.NpgsqlException { IsTransient: true };

    private static Error FromBadRequest(BadHttpRequestException bad) => bad.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => new Error(ErrorCode.PayloadTooLarge, "Request body exceeds 1 MiB"),
        StatusCodes.Status415UnsupportedMediaType => new Error(ErrorCode.UnsupportedMediaType, "Content-Type must be application/json"),
        _ when bad.InnerException is JsonException json => FromJson(json),
        // An empty body, or the JSON literal null: "Implicit body inferred for parameter "body" but no body was
        // provided" (endpoints generated at compile time), "... body was not provided" (the runtime's wording).
        _ when bad.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase)
            || bad.Message.Contains("body was not provided", StringComparison.OrdinalIgnoreCase) =>
            Error.Validation("body", "A JSON request body is required"),
        _ => Error.Validation("request", "The request is malformed"),
    };

    /// <summary>JSON errors name the offending field (from the JSON path) without echoing .NET type names.</summary>
    private static Error FromJson(JsonException json)
    {
        var unknown = UnmappedProperty().Match(json.Message);
        if (unknown.Success)
        {
            // The path usually already ends at the unknown property; when it stops at the parent, append it.
            var path = FieldFromPath(json.Path);
            var name = unknown.Groups[1].Value;
            var target = path == name || path.EndsWith("." + name, StringComparison.Ordinal) ? path : path.Length == 0 ? name : $"{path}.{name}";
            return Error.Validation(target, "Unknown property");
        }

        if (json.Message.Contains("Duplicate", StringComparison.Ordinal))
        {
            return Error.Validation(FieldFromPath(json.Path) is { Length: > 0 } duplicated ? duplicated : "body", "The property appears more than once");
        }

        if (json.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase))
        {
            return Error.Validation("body", "JSON nesting exceeds 32 levels");
        }

        if (json.Message.Contains("could not be converted", StringComparison.Ordinal) && FieldFromPath(json.Path) is { Length: > 0 } field)
        {
            return Error.Validation(field, "Invalid value or type for this field");
        }

        return Error.Validation("body", "Malformed JSON");
    }

    private static string FieldFromPath(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    [GeneratedRegex("The JSON property '([^']{1,200})' could not be mapped")]
    private static partial Regex UnmappedProperty();
}
