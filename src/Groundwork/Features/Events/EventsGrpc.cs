using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Platform.GrpcServer;
using Groundwork.Platform.Realtime;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Groundwork.Features.Events;

/// <summary>gRPC adapter for the event stream (api/protos/groundwork/v1/events.proto): the same operation and stream as SSE.</summary>
public sealed class EventsGrpc(SubscribeToEvents subscribe, EventStream stream, IHostApplicationLifetime lifetime) : EventService.EventServiceBase
{
    [DisableRequestTimeout]
    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<Event> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var selection = await context.RunAsync(subscribe, new SubscribeToEventsRequest(
            request.EventTypes.Count > 0 ? request.EventTypes.ToList() : null, request.HasAfterSequence ? request.AfterSequence : null));
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            // Headers go out once subscribed: a client that awaited them cannot miss what it does next.
            await foreach (var e in stream.ReadAsync(selection, () => context.WriteResponseHeadersAsync([]), ended.Token))
            {
                // Idle intervals need no message: Kestrel pings idle HTTP/2 connections (GroundworkHost).
                if (e is not null)
                {
                    await responseStream.WriteAsync(new Event
                    {
                        Id = e.Id.ToString(),
                        Type = e.Type,
                        OccurredAt = GrpcOperations.Time(e.OccurredAt),
                        Subject = e.Subject.ToString(),
                        Sequence = e.Sequence,
                        DataJson = e.Data,
                    }, ended.Token);
                }
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // The node is stopping: end the stream cleanly; the client resumes elsewhere with after_sequence.
        }
    }
}
