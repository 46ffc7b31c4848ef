using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using GraphQL;
using GraphQLParser.AST;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// GraphQL over WebSocket at <c>/graphql</c>, the <c>graphql-transport-ws</c> protocol (the one the npm
/// <c>graphql-ws</c> client speaks): <c>connection_init</c> (credentials in its payload) → <c>connection_ack</c>,
/// then <c>subscribe</c>/<c>next</c>/<c>error</c>/<c>complete</c> per operation id, <c>ping</c>/<c>pong</c> either way.
/// Protocol violations close the socket with the protocol's codes (4400 bad message, 4401 subscribe before init,
/// 4403 credential refused, 4408 no init in time, 4409 duplicate id, 4429 second init); the server closes with 1001
/// when it stops. Every operation runs through the same executer, limits and pipeline as HTTP.
/// </summary>
public sealed class GraphQLWebSocket
{
    public const string SubProtocol = "graphql-transport-ws";

    /// <summary>The largest message a client may send (a query document is at most <see cref="GraphQLLimits.MaxDocumentLength"/>).</summary>
    public const int MaxMessageBytes = 64 * 1024;

    /// <summary>The part of a message the client must take within the send timeout (the size of Kestrel's output buffer).</summary>
    private const int SendSliceBytes = 64 * 1024;

    /// <summary>Operations one connection may run at once (each subscription also holds one of its user's stream slots).</summary>
    public const int MaxOperations = 10;

    /// <summary>
    /// Results an operation may have waiting for a slow client before it is ended (never silently thinned out). A
    /// subscription's room (<see cref="SubscriptionEventRoom"/>) keeps it to two; this is the backstop.
    /// </summary>
    private const int MaxPendingResults = 256;

    private readonly HttpContext _http;
    private readonly WebSocket _socket;
    private readonly GraphQLExecution _execution;
    private readonly GroundworkSettings _settings;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, bool> _running = new();
    private byte[] _buffer = new byte[4 * 1024];
    private long _windowStart;
    private int _messagesInWindow;
    private readonly CancellationTokenSource _closed = new();

    /// <summary>Ends a receive only when the client does not answer our close within 5 s (cancelling a receive aborts the socket).</summary>
    private readonly CancellationTokenSource _receiving = new();
    private volatile bool _closing;
    private Caller? _caller;
    private bool _initReceived;

    private GraphQLWebSocket(HttpContext http, WebSocket socket)
    {
        _http = http;
        _socket = socket;
        _execution = http.RequestServices.GetRequiredService<GraphQLExecution>();
        _settings = http.RequestServices.GetRequiredService<GroundworkSettings>();
        _logger = http.RequestServices.GetRequiredService<ILogger<GraphQLWebSocket>>();
    }

    /// <summary>Refuses (in the error format) or upgrades a WebSocket request to <c>/graphql</c> and serves it until it closes.</summary>
    public static async Task AcceptAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!OriginAllowed(http))
        {
            // A page on another site must not ride the browser's connection (WebSockets are not covered by CORS).
            await RestErrors.WriteAsync(http, Error.Forbidden("WebSocket connections from this origin are not allowed"));
            return;
        }

        if (!http.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol))
        {
            await RestErrors.WriteAsync(http, Error.Validation("Sec-WebSocket-Protocol", $"Use the {SubProtocol} subprotocol"));
            return;
        }

        var settings = http.RequestServices.GetRequiredService<GroundworkSettings>();
        var open = http.RequestServices.GetRequiredService<OpenSockets>();
        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (open.Add(ip) > settings.GraphQLMaxSocketsPerIp)
        {
            open.Release(ip);
            await RestErrors.WriteAsync(http, new Error(ErrorCode.RateLimited, $"At most {settings.GraphQLMaxSocketsPerIp} GraphQL WebSockets may be open per client address"));
            return;
        }

        try
        {
            // A connection lives as long as the client keeps it; the 30 s limit is for requests that answer once.
            http.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
            // A ping every 15 s that must be answered within 30 s: a peer that vanished without closing is dropped
            // (as HTTP/2 pings do for gRPC streams). A client that is there but stops reading is the send timeout's.
            using var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = SubProtocol,
                KeepAliveInterval = TimeSpan.FromSeconds(15),
                KeepAliveTimeout = TimeSpan.FromSeconds(30),
            });
            await new GraphQLWebSocket(http, socket).RunAsync();
        }
        finally
        {
            open.Release(ip);
        }
    }

    /// <summary>Open sockets per client address on this node (a singleton: one count per host).</summary>
    public sealed class OpenSockets
    {
        private readonly ConcurrentDictionary<string, int> _byAddress = new(StringComparer.Ordinal);

        /// <summary>Counts one more; returns the address's count including it.</summary>
        public int Add(string ip) => _byAddress.AddOrUpdate(ip, 1, (_, n) => n + 1);

        public void Release(string ip)
        {
            while (_byAddress.TryGetValue(ip, out var n))
            {
                if (n <= 1 ? _byAddress.TryRemove(new KeyValuePair<string, int>(ip, n)) : _byAddress.TryUpdate(ip, n - 1, n))
                {
                    return;
                }
            }
        }
    }

    private static bool OriginAllowed(HttpContext http)
    {
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true; // not a browser
        }

        var settings = http.RequestServices.GetRequiredService<GroundworkSettings>();
        return string.Equals(origin, $"{http.Request.Scheme}://{http.Request.Host}", StringComparison.OrdinalIgnoreCase)
            || settings.CorsOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);
    }

    private async Task RunAsync()
    {
        var stopping = _http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var onStop = stopping.Register(() => _ = CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "Server shutting down"));
        var watch = WatchAsync();
        try
        {
            // After a close we sent, keep reading until the client answers it, so the close handshake completes.
            while (await ReceiveAsync() is { } message)
            {
                if (!_closing)
                {
                    await HandleAsync(message);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away.
        }
        finally
        {
            await _closed.CancelAsync();
            foreach (var operation in _operations.Values)
            {
                await TryCancelAsync(operation);
            }

            // Nothing may still write to the socket once this returns (it is disposed then).
            await Task.WhenAll(_running.Keys);
            await watch;
            _closed.Dispose();
            _receiving.Dispose();
        }
    }

    /// <summary>Closes a connection that never initialises, and one whose credential stops standing (revoked, expired, role changed).</summary>
    private async Task WatchAsync()
    {
        try
        {
            await Task.Delay(_settings.GraphQLConnectionInitTimeout, _closed.Token);
            if (!_initReceived)
            {
                await CloseAsync((WebSocketCloseStatus)4408, "Connection initialisation timeout");
                return;
            }

            while (true)
            {
                await Task.Delay(_settings.EventHeartbeat, _closed.Token);
                if (!await CredentialStandsAsync())
                {
                    await CloseAsync((WebSocketCloseStatus)4403, "Forbidden");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Whether the connection's credential still stands (session live, key usable, role unchanged). A check that
    /// cannot be made (the database is down) counts as standing: the next one decides.
    /// </summary>
    private async Task<bool> CredentialStandsAsync()
    {
        if (_caller is not { IsAuthenticated: true } caller)
        {
            return true;
        }

        try
        {
            return await _http.RequestServices.GetRequiredService<CredentialCheck>().IsStillValidAsync(caller, _closed.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning("Could not re-check a GraphQL WebSocket's credential: {Reason}", e.Message);
            return true;
        }
    }

    /// <summary>Returns false when the connection was closed for a protocol violation.</summary>
    private async Task<bool> HandleAsync(JsonElement message)
    {
        var type = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        var id = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
        switch (type)
        {
            case "connection_init":
                if (_initReceived)
                {
                    return await CloseAsync((WebSocketCloseStatus)4429, "Too many initialisation requests");
                }

                _initReceived = true;
                var payload = message.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
                var authorization = Text(payload, "Authorization") ?? Text(payload, "authorization");
                var apiKey = Text(payload, ApiKeyAuthenticationHandler.HeaderName) ?? Text(payload, "x-api-key");
                // Failed credentials count against the client's address exactly as over HTTP: a socket is no way
                // around the limit on guessing tokens or keys.
                var limiter = _http.RequestServices.GetRequiredService<RateLimiting.RateLimiter>();
                var ip = _http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                var rule = _settings.RateLimits.FailedCredentialsPerIp;
                if ((authorization is not null || apiKey is not null) && !(await limiter.PeekAsync(FailedCredentialLimitMiddleware.Policy, ip, rule)).Allowed)
                {
                    return await CloseAsync((WebSocketCloseStatus)4429, "Too many failed credentials from this address");
                }

                var caller = await CredentialAuthenticator.AuthenticateAsync(_http, authorization, apiKey);
                if (caller.CredentialRejected)
                {
                    await limiter.RecordAsync(FailedCredentialLimitMiddleware.Policy, ip, rule);
                    return await CloseAsync((WebSocketCloseStatus)4403, "Forbidden");
                }

                _caller = caller;
                await SendAsync(new { type = "connection_ack" });
                return true;

            case "ping":
                await SendAsync(new { type = "pong" });
                return true;

            case "pong":
                return true;

            case "subscribe" when id is { Length: > 0 and <= 128 } && message.TryGetProperty("payload", out var request) && request.ValueKind == JsonValueKind.Object:
                if (_caller is null)
                {
                    return await CloseAsync((WebSocketCloseStatus)4401, "Unauthorized");
                }

                // Checked again for every operation (cached for a second), not only by the heartbeat: a revoked
                // session must not keep running mutations over a socket it opened earlier.
                if (!await CredentialStandsAsync())
                {
                    return await CloseAsync((WebSocketCloseStatus)4403, "Forbidden");
                }

                if (_operations.ContainsKey(id))
                {
                    return await CloseAsync((WebSocketCloseStatus)4409, $"Subscriber for {id} already exists");
                }

                if (_operations.Count >= MaxOperations)
                {
                    await SendErrorAsync(id, new Error(ErrorCode.RateLimited, $"At most {MaxOperations} operations may run at once on one connection"));
                    return true;
                }

                var cancel = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
                _operations[id] = cancel;
                var run = RunOperationAsync(id, request.Clone(), _caller, cancel);
                _running[run] = true;
                _ = run.ContinueWith(done => _running.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return true;

            case "complete" when id is not null:
                if (_operations.TryRemove(id, out var running))
                {
                    await TryCancelAsync(running);
                }

                return true;

            default:
                return await CloseAsync((WebSocketCloseStatus)4400, "Invalid message received");
        }
    }

    private async Task RunOperationAsync(string id, JsonElement request, Caller caller, CancellationTokenSource cancel)
    {
        try
        {
            await using var scope = _http.RequestServices.CreateAsyncScope();
            if (await PrepareAsync(request, caller, scope.ServiceProvider) is not { } prepared)
            {
                return;
            }

            var (document, operationName, variables, extensions, subscription) = prepared;
            var context = new GraphQLRequestContext(caller);
            var result = await _execution.ExecuteAsync(document, operationName, variables, extensions, context, scope.ServiceProvider, cancel.Token);
            Stamp(result);
            if (result.Streams is { Count: > 0 } streams)
            {
                try
                {
                    await StreamAsync(id, streams.Values.First(), context.EventRoom, cancel.Token);
                }
                finally
                {
                    // The scope, and the DbContext its events share, goes when this method returns: an event still
                    // resolving (its token is cancelled with the stream) finishes first; the waiting ones were dropped.
                    await context.EventTurn.WaitAsync(CancellationToken.None);
                }
            }
            else if (!result.Executed || subscription)
            {
                // Nothing ran (a bad document) or no stream opened (a refused subscription): the protocol's error message.
                await SendAsync(id, "error", ErrorsJson(result));
            }
            else
            {
                await SendAsync(id, "next", _execution.Serializer.Serialize(result));
                await SendAsync(new { id, type = "complete" });
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The client completed the operation or left.
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "GraphQL WebSocket operation failed");
            await SendErrorAsync(id, new Error(ErrorCode.InternalError, "Internal server error"));
        }
        finally
        {
            _operations.TryRemove(new KeyValuePair<string, CancellationTokenSource>(id, cancel));
            cancel.Dispose();
        }

        async Task<(ParsedDocument, string?, Inputs?, Inputs?, bool)?> PrepareAsync(JsonElement payload, Caller who, IServiceProvider services)
        {
            var query = Text(payload, "query");
            if (query is null)
            {
                await SendErrorAsync(id, Error.Validation("query", "A query string is required"));
                return null;
            }

            if (query.Length > GraphQLLimits.MaxDocumentLength)
            {
                await SendErrorAsync(id, Error.Validation("query", $"The document exceeds {GraphQLLimits.MaxDocumentLength} characters"));
                return null;
            }

            ParsedDocument document;
            Inputs? variables;
            Inputs? extensions;
            try
            {
                document = _execution.ParseOrReuse(query);
            }
            catch (GraphQLDocumentRefusedException e)
            {
                await SendErrorAsync(id, Error.Validation("query", e.Message));
                return null;
            }

            var field = "variables";
            try
            {
                variables = Map(payload, field);
                field = "extensions";
                extensions = Map(payload, field);
            }
            catch (JsonException)
            {
                await SendErrorAsync(id, Error.Validation(field, "Must be a JSON object"));
                return null;
            }

            var operationName = Text(payload, "operationName");
            var selected = GraphQLEndpoint.SelectedOperation(document.Document, operationName);
            var subscription = selected is { Operation: OperationType.Subscription };
            // The default limit, as for every HTTP request: one token per operation, plus one per extra root
            // mutation field (aliases must not turn one token into many writes).
            var extra = selected is { Operation: OperationType.Mutation }
                ? Math.Max(0, GraphQLEndpoint.RootFieldCount(selected, document.Document) - 1)
                : 0;
            var decision = await services.GetRequiredService<RateLimiting.RateLimiter>()
                .TryAcquireAsync("default", who.PrincipalKey, _settings.RateLimits.Default, 1 + extra);
            if (!decision.Allowed)
            {
                await SendErrorAsync(id, Error.RateLimited(decision));
                return null;
            }

            return (document, operationName, variables, extensions, subscription);
        }
    }

    /// <summary>Sends a subscription's results in order until it ends, the client completes it or falls too far behind.</summary>
    /// <summary>
    /// Sends a subscription's results as they come. Each one sent gives its event's room back to the source
    /// (<paramref name="room"/>), so a client that reads slowly leaves events in the event stream, not here.
    /// </summary>
    private async Task StreamAsync(string id, IObservable<ExecutionResult> stream, SubscriptionEventRoom room, CancellationToken cancellationToken)
    {
        var results = Channel.CreateBounded<ExecutionResult>(new BoundedChannelOptions(MaxPendingResults) { SingleReader = true });
        var observer = new ChannelObserver(results.Writer);
        using (stream.Subscribe(observer))
        {
            await foreach (var result in results.Reader.ReadAllAsync(cancellationToken))
            {
                Stamp(result);
                await SendAsync(id, "next", _execution.Serializer.Serialize(result));
                room.Return();
            }
        }

        if (observer.Overflowed)
        {
            await SendAsync(id, "next", _execution.Serializer.Serialize(new ExecutionResult
            {
                Errors = [new OperationException(new Error(ErrorCode.ServiceUnavailable, "The client fell too far behind this subscription; subscribe again"))],
            }));
        }
        else if (observer.Failure is not null)
        {
            _logger.LogError(observer.Failure, "A GraphQL subscription's stream failed");
            await SendAsync(id, "next", _execution.Serializer.Serialize(new ExecutionResult
            {
                Errors = [new OperationException(new Error(ErrorCode.InternalError, "Internal server error"))],
            }));
        }

        await SendAsync(new { id, type = "complete" });
    }

    private void Stamp(ExecutionResult result)
    {
        foreach (var error in result.Errors ?? [])
        {
            error.Data[GraphQLErrors.RequestIdKey] = _http.TraceIdentifier;
        }
    }

    private string ErrorsJson(ExecutionResult result)
    {
        using var json = JsonDocument.Parse(_execution.Serializer.Serialize(new ExecutionResult { Errors = result.Errors }));
        return json.RootElement.TryGetProperty("errors", out var errors) ? errors.GetRawText() : "[]";
    }

    private Task SendErrorAsync(string id, Error error)
    {
        var executionError = new OperationException(error);
        executionError.Data[GraphQLErrors.RequestIdKey] = _http.TraceIdentifier;
        return SendAsync(id, "error", ErrorsJson(new ExecutionResult { Errors = [executionError] }));
    }

    private Task SendAsync(string id, string type, string payloadJson)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("type", type);
            writer.WritePropertyName("payload");
            writer.WriteRawValue(payloadJson, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return SendBytesAsync(buffer.ToArray());
    }

    private Task SendAsync(object message) => SendBytesAsync(JsonSerializer.SerializeToUtf8Bytes(message, Json.Options));

    /// <summary>
    /// Sends one message in slices of <see cref="SendSliceBytes"/>, each of which the client must take within
    /// <see cref="GroundworkSettings.GraphQLSocketSendTimeout"/>. Kestrel's minimum data rate does not apply to an
    /// upgraded connection: without this, a client that stops reading would hold its socket, its slot of the address's
    /// sockets and the answers waiting for it for as long as it liked.
    /// </summary>
    private async Task SendBytesAsync(byte[] bytes)
    {
        await _sending.WaitAsync(CancellationToken.None);
        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
        try
        {
            var remaining = bytes.AsMemory();
            while (!remaining.IsEmpty && _socket.State == WebSocketState.Open)
            {
                var slice = remaining[..Math.Min(remaining.Length, SendSliceBytes)];
                remaining = remaining[slice.Length..];
                stalled.CancelAfter(_settings.GraphQLSocketSendTimeout);
                await _socket.SendAsync(slice, WebSocketMessageType.Text, endOfMessage: remaining.IsEmpty, stalled.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The connection is going away, or the client stalled (a cancelled send fails either way, depending on
            // where it was); either way the receive loop fails with the socket and ends the connection.
            if (stalled.IsCancellationRequested && !_closed.IsCancellationRequested)
            {
                _logger.LogInformation("Dropped a GraphQL WebSocket whose client took nothing for {Timeout}", _settings.GraphQLSocketSendTimeout);
                _socket.Abort();
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Closes with a protocol code and stops every operation; returns false (handled, nothing more to do).</summary>
    private async Task<bool> CloseAsync(WebSocketCloseStatus status, string reason)
    {
        _closing = true;
        foreach (var operation in _operations.Values)
        {
            await TryCancelAsync(operation);
        }

        await _sending.WaitAsync(CancellationToken.None);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(status, reason, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            _sending.Release();
        }

        _receiving.CancelAfter(TimeSpan.FromSeconds(5));
        return false;
    }

    /// <summary>
    /// The next whole text message as JSON, or null once the client's close arrived. A message that breaks the
    /// protocol (not JSON, binary, larger than <see cref="MaxMessageBytes"/>) closes the connection; reading goes on
    /// (discarding) until the client answers that close.
    /// </summary>
    private async Task<JsonElement?> ReceiveAsync()
    {
        while (true)
        {
            var length = 0;
            var broken = false;
            while (true)
            {
                // Small to start (most messages are), grown up to the limit only for a message that needs it.
                if (length == _buffer.Length && _buffer.Length < MaxMessageBytes)
                {
                    Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxMessageBytes));
                }

                var buffer = _buffer;
                var received = await _socket.ReceiveAsync(length < buffer.Length ? buffer.AsMemory(length) : buffer.AsMemory(0), _receiving.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    // The client's close (or its answer to ours): answer in turn if we have not closed yet.
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
                    return null;
                }

                if (length == buffer.Length && !broken)
                {
                    broken = true;
                    await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"Messages are limited to {MaxMessageBytes} bytes");
                }
                else if (!broken)
                {
                    length += received.Count;
                }

                if (received.MessageType != WebSocketMessageType.Text && !broken)
                {
                    broken = true;
                    await CloseAsync((WebSocketCloseStatus)4400, "Invalid message received");
                }

                if (received.EndOfMessage)
                {
                    break;
                }
            }

            if (broken || _closing)
            {
                continue;
            }

            if (TooManyMessages())
            {
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, $"More than {MaxMessagesPerSecond} messages a second");
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(_buffer.AsMemory(0, length), Json.DocumentOptions);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                await CloseAsync((WebSocketCloseStatus)4400, "Invalid message received");
            }
        }
    }

    /// <summary>Messages a client may send per second (pings included) before the connection is closed with 1008.</summary>
    public const int MaxMessagesPerSecond = 100;

    private bool TooManyMessages()
    {
        var now = Environment.TickCount64;
        if (now - _windowStart >= 1_000)
        {
            _windowStart = now;
            _messagesInWindow = 0;
        }

        return ++_messagesInWindow > MaxMessagesPerSecond;
    }

    /// <summary>An operation may finish (and dispose its token source) while the client completes it.</summary>
    private static async Task TryCancelAsync(CancellationTokenSource operation)
    {
        try
        {
            await operation.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private Inputs? Map(JsonElement payload, string name) =>
        payload.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? GraphQLEndpoint.ParseJsonMap(value.GetRawText(), _execution)
            : null;

    /// <summary>Hands a subscription's results to the sending loop; never blocks the stream that produces them.</summary>
    private sealed class ChannelObserver(ChannelWriter<ExecutionResult> results) : IObserver<ExecutionResult>
    {
        public bool Overflowed { get; private set; }

        public Exception? Failure { get; private set; }

        public void OnNext(ExecutionResult value)
        {
            if (!results.TryWrite(value))
            {
                Overflowed = true;
                results.TryComplete();
            }
        }

        public void OnError(Exception error)
        {
            Failure = error;
            results.TryComplete();
        }

        public void OnCompleted() => results.TryComplete();
    }
}
