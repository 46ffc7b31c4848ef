using System.Diagnostics;
using Groundwork.Platform.Auth;

namespace Groundwork.Platform.Http;

/// <summary>
/// Gives every request its id (the client's <c>X-Request-Id</c> when it is short and safe, else a new one),
/// echoes it, adds the baseline security headers, and opens the log scope every later log line carries.
/// </summary>
public sealed class RequestContextMiddleware(RequestDelegate next, ILogger<RequestContextMiddleware> logger)
{
    public const string HeaderName = "X-Request-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        var requestId = context.Request.Headers[HeaderName].ToString();
        if (!IsSafe(requestId))
        {
            requestId = Guid.CreateVersion7().ToString("N");
        }

        context.TraceIdentifier = requestId;
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers[HeaderName] = requestId;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            if (RestErrors.IsCredentialPath(context))
            {
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        });

        using (logger.BeginScope(new LogScope(("requestId", requestId), ("traceId", Activity.Current?.TraceId.ToString()))))
        {
            await next(context);
        }
    }

    private static bool IsSafe(string value) =>
        value.Length is > 0 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}

/// <summary>Adds the authenticated user id to the log scope (runs after authentication).</summary>
public sealed class UserLogScopeMiddleware(RequestDelegate next, ILogger<UserLogScopeMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var userId = context.User.Find(ClaimNames.Subject);
        if (userId is null)
        {
            await next(context);
            return;
        }

        using (logger.BeginScope(new LogScope(("userId", userId))))
        {
            await next(context);
        }
    }
}

/// <summary>Structured log scope: fields for the JSON formatter, a readable line for text formatters.</summary>
internal sealed class LogScope(params (string Key, object? Value)[] fields) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _fields = fields.Select(f => new KeyValuePair<string, object?>(f.Key, f.Value)).ToArray();

    public int Count => _fields.Length;

    public KeyValuePair<string, object?> this[int index] => _fields[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_fields).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(' ', _fields.Select(f => $"{f.Key}:{f.Value}"));
}
