using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Idempotency;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Http;

/// <summary>A success response rendered to its final bytes, so a replay can return exactly the same.</summary>
public sealed record RenderedResponse(int Status, string Body, string? Location)
{
    public static RenderedResponse Created<T>(string location, T value) =>
        new(StatusCodes.Status201Created, JsonSerializer.Serialize(new CreatedEnvelope<T>(value, new SelfLink(location)), Json.Options), location);

    public static RenderedResponse Ok<T>(T value) =>
        new(StatusCodes.Status200OK, JsonSerializer.Serialize(new DataEnvelope<T>(value), Json.Options), null);

    public IResult ToResult(bool replayed) => new Writer(this, replayed);

    public StoredResponse ToStored() => new(Status, Body, Location);

    private sealed class Writer(RenderedResponse response, bool replayed) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var http = httpContext.Response;
            http.StatusCode = response.Status;
            if (response.Location is not null)
            {
                http.Headers.Location = response.Location;
            }

            if (replayed)
            {
                http.Headers["Idempotent-Replayed"] = "true";
            }

            http.ContentType = "application/json; charset=utf-8";
            await http.WriteAsync(response.Body, Encoding.UTF8, httpContext.RequestAborted);
        }
    }
}

/// <summary>
/// REST side of the IETF <c>Idempotency-Key</c> draft with Stripe's semantics: claim the key for the principal,
/// run the operation, and record the rendered response in the operation's own transaction (docs/adr/0005).
/// </summary>
public static class IdempotentRest
{
    public const string HeaderName = "Idempotency-Key";

    /// <summary>Buffers bodies of requests that carry a key, so the fingerprint can read them after binding.</summary>
    public static IApplicationBuilder UseIdempotencyBuffering(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.Request.Headers.ContainsKey(HeaderName))
            {
                context.Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: ErrorHandling.MaxBodyBytes);
            }

            return next(context);
        });

    public static async Task<IResult> RunAsync<TRequest, TResponse>(
        HttpContext http,
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        bool keyRequired,
        Func<TResponse, RenderedResponse> render)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(render);
        var pipeline = http.RequestServices.GetRequiredService<OperationPipeline>();
        var caller = http.ToCaller();
        var ct = http.RequestAborted;
        var key = http.Request.Headers[HeaderName].ToString();
        if (key.Length == 0)
        {
            if (keyRequired)
            {
                return Error.Validation(HeaderName, "This request requires an Idempotency-Key header").ToResult();
            }

            var plain = await pipeline.RunAsync(operation, request, caller, ct);
            return plain.IsSuccess ? render(plain.Value).ToResult(replayed: false) : plain.Error.ToResult();
        }

        if (IdempotentExecution.ValidateKey(key, HeaderName) is { } invalid)
        {
            return invalid.ToResult();
        }

        var idempotency = new IdempotencyRequest(caller.PrincipalKey, key, http.Request.Method, http.Request.Path.Value ?? "", await FingerprintAsync(http));
        var execution = http.RequestServices.GetRequiredService<IdempotentExecution>();
        var outcome = await execution.RunAsync(idempotency, operation, request, caller,
            value => render(value).ToStored(), ct);
        if (!outcome.IsSuccess)
        {
            return outcome.Error.ToResult();
        }

        var stored = outcome.Value.Response;
        return new RenderedResponse(stored.Status, stored.Body, stored.Location).ToResult(outcome.Value.Replayed);
    }

    private static async Task<string> FingerprintAsync(HttpContext http)
    {
        var body = http.Request.Body;
        if (!body.CanSeek)
        {
            return "";
        }

        body.Position = 0;
        var hash = await SHA256.HashDataAsync(body, http.RequestAborted);
        body.Position = 0;
        return Convert.ToHexStringLower(hash);
    }
}
