using Groundwork.Platform.Hosting;

namespace Groundwork.Features.Events;

/// <summary>Event streams to clients (SSE, gRPC); the outbox, relay and brokers behind them are in Platform/Messaging.</summary>
public sealed class EventsModule : IFeatureModule
{
    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => api.MapEvents();

    public void MapGrpc(IEndpointRouteBuilder app) => app.MapGrpcService<EventsGrpc>().AllowAnonymous();
}
