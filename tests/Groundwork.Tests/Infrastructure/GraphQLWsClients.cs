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
