using Groundwork.Features.Accounts;
using Groundwork.Features.Auth;
using Groundwork.Features.Orders;
using Groundwork.Features.Posts;
using Groundwork.Features.Users;
using Groundwork.Platform.Http;

namespace Groundwork.Platform.GrpcServer;

/// <summary>gRPC services on the h2c endpoint (SPEC §11): the feature adapters, health always, reflection outside Production.</summary>
public static class GrpcSetup
{
    public static IServiceCollection AddGroundworkGrpc(this IServiceCollection services, IHostEnvironment environment)
    {
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = (int)ErrorHandling.MaxBodyBytes;
            o.MaxSendMessageSize = 4 * (int)ErrorHandling.MaxBodyBytes;
            o.EnableDetailedErrors = false;
            o.Interceptors.Add<GrpcServerInterceptor>();
        });
        // The gRPC health service reports the app's own health checks (the database), as /health/ready does.
        services.AddGrpcHealthChecks();
        if (!environment.IsProduction())
        {
            services.AddGrpcReflection();
        }

        return services;
    }

    public static void MapGroundworkGrpc(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Open at the HTTP level: every method authorizes in the operation pipeline, like GraphQL fields.
        app.MapGrpcService<UsersGrpc>().AllowAnonymous();
        app.MapGrpcService<PostsGrpc>().AllowAnonymous();
        app.MapGrpcService<OrdersGrpc>().AllowAnonymous();
        app.MapGrpcService<AccountsGrpc>().AllowAnonymous();
        app.MapGrpcService<AuthGrpc>().AllowAnonymous();
        app.MapGrpcHealthChecksService().AllowAnonymous();
        if (!app.Environment.IsProduction())
        {
            app.MapGrpcReflectionService().AllowAnonymous();
        }
    }
}
