using Grpc.AspNetCore.Server.Model;
using Groundwork.Platform.Http;

namespace Groundwork.Platform.GrpcServer;

/// <summary>gRPC services on the h2c endpoint: the features' adapters, health always, reflection outside Production.</summary>
public static class GrpcSetup
{
    public static IServiceCollection AddGroundworkGrpc(this IServiceCollection services, IHostEnvironment environment)
    {
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = (int)ErrorHandling.MaxBodyBytes;
            // A page of 100 posts of 50,000 characters is up to 15 MB of UTF-8: never too big to send.
            o.MaxSendMessageSize = 16 * (int)ErrorHandling.MaxBodyBytes;
            o.EnableDetailedErrors = false;
            foreach (var provider in CheckedDecompression.Defaults())
            {
                o.CompressionProviders.Add(provider);
            }

            o.Interceptors.Add<GrpcServerInterceptor>();
        });
        // Every service is bound by CheckedServiceMethodProvider instead of Grpc.AspNetCore's own binder: the same methods,
        // with a request that cannot be parsed refused as INVALID_ARGUMENT instead of UNKNOWN.
        var binder = services.Single(d => d.ServiceType == typeof(IServiceMethodProvider<>)
            && d.ImplementationType is { Name: "BinderServiceMethodProvider`1" });
        services.Remove(binder);
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(CheckedServiceMethodProvider<>));
        // The gRPC health service reports the app's own health checks (the database), as /health/ready does.
        services.AddGrpcHealthChecks();
        if (!environment.IsProduction())
        {
            services.AddGrpcReflection();
        }

        return services;
    }

    public static void MapGroundworkGrpc(this WebApplication app, IEnumerable<Hosting.IFeatureModule> features)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(features);
        // Open at the HTTP level: every method authorizes in the operation pipeline, like GraphQL fields.
        foreach (var feature in features)
        {
            feature.MapGrpc(app);
        }

        app.MapGrpcHealthChecksService().AllowAnonymous();
        if (!app.Environment.IsProduction())
        {
            app.MapGrpcReflectionService().AllowAnonymous();
        }
    }
}
