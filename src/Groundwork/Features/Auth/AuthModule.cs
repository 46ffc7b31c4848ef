using Groundwork.Platform.Auth;
using Groundwork.Platform.Hosting;

namespace Groundwork.Features.Auth;

public sealed class AuthModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddScoped<SessionIssuer>();
        services.AddScoped<SessionRevocation>();
        services.AddScoped<ISessionLookup, SessionLookup>();
        services.AddScoped<Platform.WriteBehind.ILastSeenWriter, SessionLastSeenWriter>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => api.MapAuth();

    public void MapGrpc(IEndpointRouteBuilder app) => app.MapGrpcService<AuthGrpc>().AllowAnonymous();
}
