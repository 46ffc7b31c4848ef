using System.Text.Json.Nodes;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Events;

/// <summary>A node that stops ends its long-lived streams cleanly (clients reconnect elsewhere) instead of cutting them.</summary>
public sealed class StreamShutdownTests
{
    [Fact]
    public async Task Stopping_the_node_ends_SSE_streams_and_closes_GraphQL_sockets_with_1001()
    {
        var app = new SqliteServerApp();
        await app.InitializeAsync();
        try
        {
            var user = await app.ActorAsync();
            var sse = await SseClient.OpenAsync(user.Client());
            var socket = await RawGraphQLSocket.ConnectAsync(app);
            await socket.SendAsync(new JsonObject { ["type"] = "connection_init", ["payload"] = new JsonObject { ["Authorization"] = $"Bearer {user.AccessToken}" } });
            Assert.Equal("connection_ack", (await socket.ReceiveAsync())!["type"]!.GetValue<string>());
            await socket.SendAsync(new JsonObject { ["id"] = "1", ["type"] = "subscribe", ["payload"] = new JsonObject { ["query"] = "subscription { postPublished { id } }" } });

            var closed = socket.ClosedWithAsync();
            await app.DisposeAsync();

            Assert.Equal(1001, await closed);
            Assert.Same(sse.Ended, await Task.WhenAny(sse.Ended, Task.Delay(SseClient.Patience, TestContext.Current.CancellationToken)));
            await sse.DisposeAsync();
            await socket.DisposeAsync();
        }
        finally
        {
            await app.DisposeAsync();
        }
    }
}
