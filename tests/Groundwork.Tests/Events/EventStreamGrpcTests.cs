using System.Net.Http.Json;
using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Tests.Infrastructure;
using Groundwork.Tests.Transports;

namespace Groundwork.Tests.Events;

/// <summary>EventService.Subscribe: the same operation and stream as SSE, over gRPC server streaming.</summary>
public abstract class EventStreamGrpcTests(GroundworkApp app)
{
    private static async Task<Event> NextAsync(IAsyncStreamReader<Event> reader)
    {
        using var patience = new CancellationTokenSource(SseClient.Patience);
        Assert.True(await reader.MoveNext(patience.Token), "the stream ended");
        return reader.Current;
    }

    [Fact]
    public async Task The_gRPC_stream_and_SSE_carry_the_same_events_and_never_another_users_private_ones()
    {
        var alice = await app.ActorAsync();
        var bob = await app.ActorAsync();
        var client = new EventService.EventServiceClient(app.GrpcChannel());
        using var call = client.Subscribe(new SubscribeRequest { EventTypes = { "user.updated" } }, GrpcTests.Bearer(alice.AccessToken));
        await using var sse = await SseClient.OpenAsync(alice.Client(), "?types=user.updated");
        // The server answers its headers once subscribed; from then on nothing she causes is missed.
        await call.ResponseHeadersAsync;
        await bob.RenameAsync("Bob private");
        await alice.RenameAsync("Alice public to herself");

        var overGrpc = await NextAsync(call.ResponseStream);
        Assert.Equal(("user.updated", alice.Id.ToString()), (overGrpc.Type, overGrpc.Subject));
        Assert.Contains("Alice public to herself", overGrpc.DataJson, StringComparison.Ordinal);
        var (overSse, _) = await sse.NextMatchingAsync(e => e.Data["data"]!["name"]!.GetValue<string>() == "Alice public to herself");
        Assert.Equal((overSse.Id, overSse.Data["id"]!.GetValue<string>()), (overGrpc.Sequence, overGrpc.Id));
        Assert.Equal(overSse.Data["occurredAt"]!.GetValue<DateTime>().ToUniversalTime(), overGrpc.OccurredAt.ToDateTime());

        // Resuming after the marker replays exactly what came after it for her.
        using var resumed = client.Subscribe(new SubscribeRequest { EventTypes = { "user.updated" }, AfterSequence = overGrpc.Sequence - 1 }, GrpcTests.Bearer(alice.AccessToken));
        Assert.Equal(overGrpc.Id, (await NextAsync(resumed.ResponseStream)).Id);
    }

    [Fact]
    public async Task Refusals_map_to_gRPC_statuses()
    {
        var user = await app.ActorAsync();
        var client = new EventService.EventServiceClient(app.GrpcChannel());

        async Task<RpcException> RefusedAsync(SubscribeRequest request, Metadata? headers)
        {
            using var call = client.Subscribe(request, headers);
            return await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        }

        Assert.Equal(StatusCode.Unauthenticated, (await RefusedAsync(new SubscribeRequest(), null)).StatusCode);
        var invalid = await RefusedAsync(new SubscribeRequest { EventTypes = { "order.exploded" } }, GrpcTests.Bearer(user.AccessToken));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, (await RefusedAsync(new SubscribeRequest { AfterSequence = long.MaxValue }, GrpcTests.Bearer(user.AccessToken))).StatusCode);
    }
}

public sealed class EventStreamGrpcTestsOnSqlite(SqliteServerApp app) : EventStreamGrpcTests(app), IClassFixture<SqliteServerApp>;

public sealed class EventStreamGrpcTestsOnPostgres(PostgresServerApp app) : EventStreamGrpcTests(app), IClassFixture<PostgresServerApp>;
