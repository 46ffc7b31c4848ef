using System.Globalization;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Http;

/// <summary>
/// The REST transport adapter: run an operation through the pipeline for the HTTP caller (with the
/// <c>Idempotency-Key</c> header, if sent), then translate the result. Endpoints stay one line of translation each;
/// nothing here decides anything: whether the key matters is the operation's declaration.
/// </summary>
public static class Rest
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static Task<IResult> RunAsync<TRequest, TResponse>(
        HttpContext context,
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        Func<TResponse, IResult> onSuccess) => RunAsync(context, operation, request, onSuccess, []);

    private static async Task<IResult> RunAsync<TRequest, TResponse>(
        HttpContext context,
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        Func<TResponse, IResult> onSuccess,
        IReadOnlyList<FieldError> inputErrors)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(onSuccess);
        var pipeline = context.RequestServices.GetRequiredService<OperationPipeline>();
        var call = new OperationCall(context.ToCaller(), context.RequestAborted)
        {
            IdempotencyKey = context.Request.Headers.TryGetValue(IdempotencyKeyHeader, out var key) ? key.ToString() : null,
            IdempotencyKeyField = IdempotencyKeyHeader,
            InputErrors = inputErrors,
        };
        var result = await pipeline.ExecuteAsync(operation, request, call);
        if (!result.IsSuccess)
        {
            return result.Error.ToResult();
        }

        if (result.Value.Replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return onSuccess(result.Value.Value);
    }

    /// <summary>
    /// As <see cref="RunAsync{TRequest,TResponse}(HttpContext,IOperation{TRequest,TResponse},TRequest,Func{TResponse,IResult})"/>,
    /// with the query string's own errors handed to the pipeline, which reports them at its validation step (so an
    /// anonymous caller of a protected list still gets 401 first, as over GraphQL and gRPC).
    /// </summary>
    public static Task<IResult> RunAsync<TRequest, TResponse>(
        HttpContext context,
        QueryReader query,
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        Func<TResponse, IResult> onSuccess)
    {
        ArgumentNullException.ThrowIfNull(query);
        return RunAsync(context, operation, request, onSuccess, query.Errors);
    }

    public static IResult Data<T>(T value) => TypedResults.Json(new DataEnvelope<T>(value), Json.Options);

    /// <summary>A single resource with its <c>ETag</c>; a matching <c>If-None-Match</c> answers 304.</summary>
    public static IResult DataWithETag<T>(HttpContext context, T value, int version)
    {
        ArgumentNullException.ThrowIfNull(context);
        var etag = ETag(version);
        context.Response.Headers.ETag = etag;
        var ifNoneMatch = context.Request.Headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length > 0 && ifNoneMatch.Split(',').Any(t => t.Trim() is var v && (v == etag || v == "*" || v == "W/" + etag)))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return Data(value);
    }

    public static IResult Created<T>(HttpContext context, string location, T value, int? version = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (version is { } v)
        {
            context.Response.Headers.ETag = ETag(v);
        }

        return TypedResults.Created(location, new CreatedEnvelope<T>(value, new SelfLink(location)));
    }

    public static IResult NoContent(Unit _) => TypedResults.NoContent();

    public static string ETag(int version) => string.Create(CultureInfo.InvariantCulture, $"\"v{version}\"");

    /// <summary>
    /// The version an <c>If-Match</c> header demands: null when absent or <c>*</c>; an impossible version (so the
    /// operation answers 412) when it names something this server never issued.
    /// </summary>
    public static int? IfMatchVersion(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var header = context.Request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*")
        {
            return null;
        }

        var tag = header.Split(',')[0].Trim();
        if (tag.StartsWith("W/", StringComparison.Ordinal))
        {
            tag = tag[2..];
        }

        return tag.Length > 3 && tag.StartsWith("\"v", StringComparison.Ordinal) && tag.EndsWith('"')
            && int.TryParse(tag.AsSpan(2, tag.Length - 3), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : -1;
    }

    /// <summary>A cursor page: <c>{data, meta: {limit, hasMore, nextCursor}, links: {self, next}}</c>.</summary>
    public static IResult CursorPage<T>(HttpContext http, CursorPage<T> page)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(page);
        var path = $"{http.Request.PathBase}{http.Request.Path}";
        var self = http.Request.QueryString.HasValue ? path + http.Request.QueryString.Value : path;
        // The next link keeps the caller's filters and swaps in the new cursor.
        var kept = http.Request.Query
            .Where(q => q.Key is not ("cursor" or "after" or "limit"))
            .SelectMany(q => q.Value.Select(v => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(v ?? "")}"));
        var next = page.NextCursor is null
            ? null
            : $"{path}?{string.Join('&', kept.Append($"limit={page.Limit}").Append($"cursor={Uri.EscapeDataString(page.NextCursor)}"))}";
        return TypedResults.Json(new CursorEnvelope<T>(page.Items, new CursorMeta(page.Limit, page.HasMore, page.NextCursor), new CursorLinks(self, next)), Json.Options);
    }

    /// <summary>The <c>data/meta/links</c> page envelope; links keep the request's filters.</summary>
    public static IResult Page<T>(HttpContext context, PagedList<T> page)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(page);
        var lastPage = Math.Max(1, page.TotalPages);
        string Link(int p)
        {
            var query = context.Request.Query
                .Where(kv => !kv.Key.Equals("page", StringComparison.OrdinalIgnoreCase))
                .SelectMany(kv => kv.Value.Select(v => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(v ?? "")}"))
                .Append(string.Create(CultureInfo.InvariantCulture, $"page={p}"));
            return $"{context.Request.PathBase}{context.Request.Path}?{string.Join('&', query)}";
        }

        var links = new PageLinks(
            Link(page.Page),
            Link(1),
            page.Page > 1 ? Link(Math.Min(page.Page - 1, lastPage)) : null,
            page.Page < page.TotalPages ? Link(page.Page + 1) : null,
            Link(lastPage));
        return TypedResults.Json(
            new PageEnvelope<T>(page.Items, new PageMeta(page.Page, page.Limit, page.Total, page.TotalPages), links), Json.Options);
    }
}
