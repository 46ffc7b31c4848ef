using Groundwork.Platform.Configuration;
using Groundwork.Platform.Hosting;

namespace Groundwork.Bench;

/// <summary>The benchmark baselines, mapped only with <c>Groundwork:Bench:Enabled=true</c> (allowed only in the Benchmark and Testing environments).</summary>
public sealed class BenchModule : IFeatureModule
{
    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.ServiceProvider.GetRequiredService<GroundworkSettings>();
        if (settings.BenchEndpoints)
        {
            app.MapBenchBaselines(settings);
        }
    }
}
