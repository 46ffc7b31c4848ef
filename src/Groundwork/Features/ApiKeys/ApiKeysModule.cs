using Groundwork.Platform.Auth;
using Groundwork.Platform.Hosting;

namespace Groundwork.Features.ApiKeys;

public sealed class ApiKeysModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddScoped<IApiKeyLookup, ApiKeyLookup>();
        services.AddScoped<ApiKeyStatusEviction>();
        services.AddScoped<Platform.WriteBehind.ILastSeenWriter, ApiKeyLastUsedWriter>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) => api.MapApiKeys();
}
