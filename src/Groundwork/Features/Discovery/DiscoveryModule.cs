using Groundwork.Platform.Hosting;

namespace Groundwork.Features.Discovery;

public sealed class DiscoveryModule : IFeatureModule
{
    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => app.MapDiscovery();
}
