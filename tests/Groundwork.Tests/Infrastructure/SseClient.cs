using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Groundwork.Tests.Infrastructure;

/// <summary>One received SSE event: its <c>id:</c> (the sequence), <c>event:</c> (the type) and parsed <c>data:</c>.</summary>
public sealed record SseEvent(long Id, string Type, JsonObject Data);

/// <summary>
/// A test's event-stream connection: opens <c>GET /api/v1/events</c>, parses frames as they arrive and hands out
/// events (and counts keep-alives). Waiting for an event has a generous bound only so a broken build fails
/// instead of hanging; no test asserts how fast anything arrives.
/// </summary>
public sealed class SseClient : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly HttpResponseMessage _response;
    private readonly Channel<SseEvent> _events = Channel.CreateUnbounded<SseEvent>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private int _keepAlives;
    private int _received;

    private SseClient(HttpResponseMessage response)
    {
        _response = response;
        _reader = Task.Run(ReadAsync);
    }

    public int KeepAlives => Volatile.Read(ref _keepAlives);

    /// <summary>Completes when the server ends the stream.</summary>
    public Task Ended => _reader;

    /// <summary>Opens a stream; fails the test unless it answers 200 <c>text/event-stream</c>.</summary>
    public static async Task<SseClient> OpenAsync(HttpClient client, string query = "", long? lastEventId = null)
    {
        var response = await SendAsync(client, query, lastEventId);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            Assert.Fail($"Opening the stream answered {(int)response.StatusCode}: {body}");
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseClient(response);
    }

    /// <summary>Sends the request and returns the response as is (for refusals).</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, string query = "", long? lastEventId = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events" + query);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public async Task<SseEvent> NextAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            return await _events.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No event within {Patience.TotalSeconds} s ({_received} received before, {KeepAlives} keep-alives, stream {(_reader.IsCompleted ? "ended" : "open")})");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("The server ended the stream");
        }
    }

    /// <summary>The next event satisfying <paramref name="match"/>, with every event that came before it.</summary>
    public async Task<(SseEvent Match, List<SseEvent> Before)> NextMatchingAsync(Func<SseEvent, bool> match)
    {
        var before = new List<SseEvent>();
        while (true)
        {
            var e = await NextAsync();
            if (match(e))
            {
                return (e, before);
            }

            before.Add(e);
        }
    }

    /// <summary>Events already received and not yet taken.</summary>
    public List<SseEvent> Drain()
    {
        var list = new List<SseEvent>();
        while (_events.Reader.TryRead(out var e))
        {
            list.Add(e);
        }

        return list;
    }

    private async Task ReadAsync()
    {
        try
        {
            await using var body = await _response.Content.ReadAsStreamAsync(_stop.Token);
            using var reader = new StreamReader(body);
            long id = 0;
            string? type = null;
            string? data = null;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data is not null)
                    {
                        Interlocked.Increment(ref _received);
                        await _events.Writer.WriteAsync(new SseEvent(id, type ?? "message", JsonNode.Parse(data)!.AsObject()));
                    }

                    type = data = null;
                }
                else if (line.StartsWith(": keep-alive", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _keepAlives);
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal))
                {
                    id = long.Parse(line.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    type = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line[6..];
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException or ArgumentException)
        {
        }
        catch (InvalidOperationException) when (_stop.IsCancellationRequested)
        {
            // Disposing: the test server's body stream refuses a read that races the response's disposal.
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        try
        {
            await _reader;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
