using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// A subscription run by the npm graphql-ws client (tests/graphql-audit/subscribe.mjs) in a node process: each
/// line it prints ({"connected"}, {"next"}, {"error"}, {"complete"}, {"closed"}) arrives here in order.
/// </summary>
public sealed class NodeSubscriber : IAsyncDisposable
{
    private readonly Process _node;
    private readonly Channel<JsonObject> _lines = Channel.CreateUnbounded<JsonObject>();
    private readonly Task _reader;
    private readonly StringBuilder _stderr = new();

    private NodeSubscriber(Process node)
    {
        _node = node;
        _node.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _node.BeginErrorReadLine();
        _reader = Task.Run(async () =>
        {
            while (await _node.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.Length > 0)
                {
                    await _lines.Writer.WriteAsync(JsonNode.Parse(line)!.AsObject());
                }
            }

            _lines.Writer.TryComplete();
        });
    }

    /// <summary>The GraphQL IDE's own fetcher (ide.js), run in node with the page's globals stubbed.</summary>
    public static NodeSubscriber StartIde(GroundworkApp app, string accessToken, string query)
    {
        ArgumentNullException.ThrowIfNull(app);
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(RepoFiles.PathOf("tests", "graphql-audit", "ide-fetcher.cjs"));
        info.ArgumentList.Add(RepoFiles.PathOf("src", "Groundwork", "Platform", "GraphQLServer", "Ide", "ide.js"));
        info.ArgumentList.Add($"http://127.0.0.1:{app.HttpPort}");
        info.ArgumentList.Add(accessToken);
        info.ArgumentList.Add(query);
        return new NodeSubscriber(Process.Start(info)!);
    }

    public static NodeSubscriber Start(GroundworkApp app, string? accessToken, string query, string? variablesJson = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        Assert.True(Directory.Exists(RepoFiles.PathOf("tests", "graphql-audit", "node_modules", "graphql-ws")),
            "graphql-ws is not installed: run `npm ci` in tests/graphql-audit (./test.sh does)");
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(RepoFiles.PathOf("tests", "graphql-audit", "subscribe.mjs"));
        info.ArgumentList.Add($"ws://127.0.0.1:{app.HttpPort}/graphql");
        info.ArgumentList.Add(accessToken ?? "-");
        info.ArgumentList.Add(query);
        if (variablesJson is not null)
        {
            info.ArgumentList.Add(variablesJson);
        }

        return new NodeSubscriber(Process.Start(info)!);
    }

    /// <summary>The next line, waiting at most <paramref name="patience"/> (default <see cref="SseClient.Patience"/>); null if none came.</summary>
    public async Task<JsonObject?> NextAsync(TimeSpan? patience = null)
    {
        using var timeout = new CancellationTokenSource(patience ?? SseClient.Patience);
        try
        {
            return await _lines.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            string errors;
            lock (_stderr)
            {
                errors = _stderr.ToString();
            }

            throw new InvalidOperationException($"the graphql-ws client exited: {errors}");
        }
    }

    public async Task<JsonObject> ExpectAsync()
    {
        var line = await NextAsync();
        Assert.True(line is not null, $"the graphql-ws client printed nothing within {SseClient.Patience.TotalSeconds} s");
        return line!;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_node.HasExited)
        {
            _node.Kill(entireProcessTree: true);
        }

        await _node.WaitForExitAsync();
        try
        {
            await _reader;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }

        _node.Dispose();
    }
}

/// <summary>A raw graphql-transport-ws connection, for the protocol's edge cases (what a hostile or broken client sends).</summary>
public sealed class RawGraphQLSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private RawGraphQLSocket(ClientWebSocket socket) => _socket = socket;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<RawGraphQLSocket> ConnectAsync(GroundworkApp app, string subProtocol = "graphql-transport-ws", string? origin = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(subProtocol);
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(SseClient.Patience);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{app.HttpPort}/graphql"), timeout.Token);
        return new RawGraphQLSocket(socket);
    }

    /// <summary>
    /// Connects once the server has let go of the address's earlier sockets (it counts one until its close handshake
    /// ends, or until it drops a stalled one); a 429 past <see cref="SseClient.Patience"/> is thrown.
    /// </summary>
    public static async Task<RawGraphQLSocket> ConnectWhenFreeAsync(GroundworkApp app)
    {
        var deadline = DateTime.UtcNow + SseClient.Patience;
        while (true)
        {
            try
            {
                return await ConnectAsync(app);
            }
            catch (WebSocketException e) when (e.Message.Contains("429", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public Task SendAsync(string text) => _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendAsync(JsonObject message) => SendAsync(message.ToJsonString());

    /// <summary>The next message, or null once the server closed the connection (see <see cref="CloseStatus"/>).</summary>
    public async Task<JsonObject?> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(SseClient.Patience);
        var buffer = new byte[1 << 20];
        var length = 0;
        while (true)
        {
            var received = await _socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            length += received.Count;
            if (received.EndOfMessage)
            {
                return JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, length))!.AsObject();
            }
        }
    }

    /// <summary>Reads until the server closes; returns the close code.</summary>
    public async Task<int> ClosedWithAsync()
    {
        while (await ReceiveAsync() is not null)
        {
        }

        return (int)_socket.CloseStatus!.Value;
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
        }

        _socket.Dispose();
    }
}

/// <summary>
/// A graphql-transport-ws client that stops reading, as a stalled or hostile one does: raw TCP with a 4 KiB receive
/// buffer, so what the server sends piles up on the server's side. Its frames are written by hand (masked, as a
/// client's must be).
/// </summary>
public sealed class StalledGraphQLSocket : IDisposable
{
    private readonly System.Net.Sockets.Socket _socket;

    private StalledGraphQLSocket(System.Net.Sockets.Socket socket) => _socket = socket;

    public static async Task<StalledGraphQLSocket> ConnectAsync(GroundworkApp app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)
        {
            ReceiveBufferSize = 4096,
        };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, app.HttpPort);
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{app.HttpPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"));
        // The response's head, a byte at a time, so no frame after it is consumed.
        var head = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(SseClient.Patience);
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await socket.ReceiveAsync(one, timeout.Token) == 0)
            {
                throw new InvalidOperationException($"The server closed during the handshake: {head}");
            }

            head.Append((char)one[0]);
        }

        if (!head.ToString().StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"No upgrade: {head}");
        }

        return new StalledGraphQLSocket(socket);
    }

    /// <summary>One masked text frame.</summary>
    public async Task SendAsync(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var payload = Encoding.UTF8.GetBytes(message.ToJsonString());
        var frame = new List<byte> { 0x81 };
        if (payload.Length < 126)
        {
            frame.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            frame.Add(0x80 | 126);
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }

        var mask = System.Security.Cryptography.RandomNumberGenerator.GetBytes(4);
        frame.AddRange(mask);
        frame.AddRange(payload.Select((b, i) => (byte)(b ^ mask[i % 4])));
        await _socket.SendAsync(frame.ToArray());
    }

    /// <summary>
    /// Reads everything left until the server ends the connection (end of stream or a reset): the bytes read, and
    /// whether it ended within <see cref="SseClient.Patience"/>.
    /// </summary>
    public async Task<(long Bytes, bool Ended)> DrainAsync()
    {
        using var timeout = new CancellationTokenSource(SseClient.Patience);
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    return (total, true);
                }

                total += read;
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            return (total, true);
        }
        catch (OperationCanceledException)
        {
            return (total, false);
        }
    }

    public void Dispose() => _socket.Dispose();
}
