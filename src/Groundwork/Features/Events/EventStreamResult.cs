using System.Globalization;
using System.Text;
using Groundwork.Platform.Realtime;

namespace Groundwork.Features.Events;

/// <summary>
/// Writes an <see cref="EventStream"/> as <c>text/event-stream</c>: <c>id:</c> is the event's sequence (what a
/// reconnecting client sends back as <c>Last-Event-ID</c>), <c>event:</c> its type, <c>data:</c> the event JSON; a
/// comment line keeps an idle connection open. Ends when the client leaves, the node shuts down or the caller's
/// credential no longer stands; the client reconnects (to any node) and resumes where it was.
/// </summary>
public sealed class EventStreamResult(EventSelection selection) : IResult
{
    /// <summary>How long a client waits before reconnecting (the SSE <c>retry:</c> field).</summary>
    public const int ReconnectMilliseconds = 2_000;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        using var _ = selection;
        var stream = httpContext.RequestServices.GetRequiredService<EventStream>();
        var stopping = httpContext.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, stopping);

        var response = httpContext.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache, no-store";
        // Proxies (nginx) must pass events through as they come, not buffer them.
        response.Headers["X-Accel-Buffering"] = "no";
        try
        {
            var opened = () => WriteAsync(response, $"retry: {ReconnectMilliseconds}\n: connected\n\n", ended.Token);
            await foreach (var e in stream.ReadAsync(selection, opened, ended.Token))
            {
                var frame = e is null
                    ? ": keep-alive\n\n"
                    : string.Create(CultureInfo.InvariantCulture, $"id: {e.Sequence}\nevent: {e.Type}\ndata: {e.Json}\n\n");
                await WriteAsync(response, frame, ended.Token);
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The client left or the node is stopping: the stream simply ends.
        }
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await response.BodyWriter.FlushAsync(cancellationToken);
    }
}
