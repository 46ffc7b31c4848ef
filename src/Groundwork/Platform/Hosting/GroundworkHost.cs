using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.GraphQLServer;
using Groundwork.Platform.GrpcServer;
using Groundwork.Platform.Http;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.RateLimiting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Scalar.AspNetCore;

namespace Groundwork.Platform.Hosting;

/// <summary>Composition: which services exist and in which order a request meets the middleware.</summary>
public static class GroundworkHost
{
    /// <param name="features">The composition root's list (src/Groundwork/App/FeatureModules.cs).</param>
    public static GroundworkSettings AddGroundwork(this WebApplicationBuilder builder, IReadOnlyList<IFeatureModule> features)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(features);
        var settings = GroundworkSettings.Load(builder.Configuration, builder.Environment.EnvironmentName);
        var services = builder.Services;

        // Quiet framework defaults wherever the service runs from (appsettings.json sits next to the binary, not
        // necessarily in the working directory); any configuration source still overrides them.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
                // Its keys sit in KeysPath, a 0700 folder like the signing keys; "not encrypted at rest" is expected.
                ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
                // HttpClient logs each request's URL: webhook URLs often carry a token in their path.
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
                // A malformed gRPC message is the client's fault; service failures are logged by our interceptor.
                ["Logging:LogLevel:Grpc.AspNetCore.Server.ServerCallHandler"] = "Critical",
            },
        });
        builder.Logging.ClearProviders();
        if (builder.Environment.IsDevelopment())
        {
            // dotnet run: one readable line per event. Everywhere else: JSON with scopes, for log pipelines.
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }
        else
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        KestrelEndpoints.Configure(builder, settings);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = ErrorHandling.MaxBodyBytes;
            // Idle HTTP/2 connections (a quiet gRPC event stream) get pings, so proxies keep them and dead peers are found.
            k.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
            k.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
        });
        services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = ErrorHandling.MaxBodyBytes);

        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddMemoryCache();
        services.AddSingleton<RateLimiter>();
        var health = services.AddHealthChecks().AddDbContextCheck<GroundworkDbContext>("database", tags: ["ready"]);
        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(sp => sp.GetRequiredService<GracefulShutdown>());
        services.AddHostedService<NativeMemoryTrimmer>();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);
        if (settings.Redis is { } redis)
        {
            services.AddSingleton(sp => new Redis.RedisConnection(redis, sp.GetRequiredService<ILogger<Redis.RedisConnection>>()));
            services.AddSingleton<RedisRateLimitStore>();
            services.AddSingleton<Caching.RedisEntityStore>();
            health.AddCheck<Redis.RedisHealthCheck>("redis", tags: ["ready"]);
        }

        services.AddGroundworkDatabase(settings);
        services.AddGroundworkMessaging(settings, health);
        services.AddGroundworkObservability(settings);
        services.AddGroundworkAuthentication(settings);
        services.AddOperations();
        foreach (var feature in features)
        {
            services.AddSingleton(feature);
            feature.AddServices(services);
        }

        services.AddSingleton<GraphQLExecution>();
        services.AddSingleton<GraphQLWebSocket.OpenSockets>();
        services.AddGroundworkGrpc(builder.Environment);

        services.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
        // Binding failures (malformed JSON, wrong content type) become exceptions our handler maps to the envelope.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = TimeSpan.FromSeconds(30),
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
        });
        services.AddCors(o => o.AddDefaultPolicy(p =>
        {
            if (settings.CorsOrigins.Count > 0)
            {
                p.WithOrigins([.. settings.CorsOrigins]).AllowAnyHeader().AllowAnyMethod()
                    .WithExposedHeaders("ETag", "Location", "X-Request-Id", "RateLimit", "RateLimit-Policy", "Retry-After");
            }
        }));
        services.AddOpenApi(o => o.AddDocumentTransformer<OpenApiSecurity>().AddDocumentTransformer<OpenApiDocumentDetails>().AddSchemaTransformer<OpenApiEnumNames>());
        // The OpenAPI document is rebuilt on every request otherwise (tens of ms of CPU each, for anyone).
        services.AddOutputCache(o => o.AddPolicy("openapi", p => p.Expire(TimeSpan.FromHours(1))));
        // Data Protection (and AddAuthentication, which adds it again) registers a hosted service that reads its XML
        // key ring when the host starts. Only webhook secrets use the ring, so it is read when the first one is
        // (about 2 MB less resident at ready: LINQ to XML and the ring's code stay unloaded). Matched by name, as the
        // type is internal: should it be renamed, the ring is read at start again, which is only the old cost.
        foreach (var primer in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Name == "DataProtectionHostedService").ToList())
        {
            services.Remove(primer);
        }

        return settings;
    }

    public static WebApplication UseGroundwork(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.Services.GetRequiredService<GroundworkSettings>();

        // Only configured proxies may tell us the client's address (rate limits, logs); everyone else is who the socket says.
        if (settings.KnownProxies.Count > 0)
        {
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = null };
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in settings.KnownProxies)
            {
                forwarded.KnownIPNetworks.Add(network);
            }

            app.UseForwardedHeaders(forwarded);
        }

        app.UseMetricsListener();
        app.UseShutdownReadiness();
        app.UseMiddleware<RequestContextMiddleware>();
        app.UseGroundworkErrorHandling();
        app.UseUtf8Bodies();
        app.UseCors();
        app.UseMiddleware<FailedCredentialLimitMiddleware>();
        app.UseAuthentication();
        app.UseMiddleware<UserLogScopeMiddleware>();
        app.UseMiddleware<DefaultRateLimitMiddleware>();
        app.UseUnmatchedRouteAnswers();
        app.UseAuthorization();
        app.UseRequestTimeouts();
        app.UseMiddleware<GrpcServer.GrpcFramePrefixCheck>();
        app.UseWebSockets();
        app.UseOutputCache();

        var features = app.Services.GetServices<IFeatureModule>().ToList();
        var api = app.MapGroup("/api/v1");
        foreach (var feature in features)
        {
            feature.MapEndpoints(app, api);
        }

        app.MapGraphQL();
        if (!app.Environment.IsProduction())
        {
            app.MapGraphQLIde();
        }
        app.MapGroundworkGrpc(features);

        // The root has nothing of its own: send people (and browsers) to the interactive reference.
        app.MapGet("/", () => Results.Redirect("/docs")).AllowAnonymous().ExcludeFromDescription();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks(GracefulShutdown.ReadinessPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous().CacheOutput("openapi");
        app.MapScalarApiReference("/docs", o => o.WithTitle("Groundwork API").WithOpenApiRoutePattern("/openapi/{documentName}.json"))
            .AllowAnonymous();

        return app;
    }

    /// <summary>Work before serving: signing key, migrations, the bcrypt decoy, the first-admin hint.</summary>
    public static async Task PrepareAsync(this WebApplication app, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.Services.GetRequiredService<GroundworkSettings>();
        app.Services.GetRequiredService<SigningKeyStore>().EnsureKey();
        // The bcrypt decoy is pure CPU and the migrations mostly EF's model building on one thread: on two cores they
        // overlap, and start to ready is the longer of the two, not their sum.
        var warm = Task.Run(app.Services.GetRequiredService<PasswordHasher>().Warm, cancellationToken);
        if (settings.MigrateOnStart)
        {
            await DatabaseSetup.MigrateAsync(app.Services, cancellationToken);
        }

        await warm;
        // Starts connecting to Redis (if configured) now, so the first requests find it connected.
        _ = app.Services.GetService<Redis.RedisConnection>();
        foreach (var feature in app.Services.GetServices<IFeatureModule>())
        {
            await feature.OnStartingAsync(app.Services, cancellationToken);
        }
    }
}
