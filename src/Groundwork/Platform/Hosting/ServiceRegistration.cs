using FluentValidation;
using Groundwork.Platform.Idempotency;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Hosting;

public static class ServiceRegistration
{
    /// <summary>
    /// Registers every operation and validator in the assembly. A new use case is one file: its operation
    /// and validator are found here, and the architecture tests check that nothing was missed.
    /// </summary>
    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        // A rule stops at its first failure: a length check that failed keeps a 1 MiB string away from the rest.
        ValidatorOptions.Global.DefaultRuleLevelCascadeMode = CascadeMode.Stop;
        services.AddScoped<OperationPipeline>();
        services.AddSingleton<SecurityAudit>();
        services.AddScoped<CommitHooks>();
        services.AddScoped<ScopeDisposables>();
        services.AddSingleton<RetentionJob>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionJob>());
        services.AddSingleton<Caching.CacheStats>();
        services.AddSingleton<Caching.EntityCache>();
        services.AddScoped<Caching.CacheWrites>();
        services.AddScoped<Caching.CacheRepairJournal>();
        services.AddSingleton<Caching.CacheRepairSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<Caching.CacheRepairSweeper>());
        services.AddSingleton<WriteBehind.LastSeenBuffer>();
        services.AddSingleton<WriteBehind.CounterBuffer>();
        services.AddSingleton<WriteBehind.WriteBehindFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<WriteBehind.WriteBehindFlusher>());
        services.AddSingleton<IdempotencyStore>();
        services.AddSingleton<IdempotencyReaper>();
        services.AddHostedService(sp => sp.GetRequiredService<IdempotencyReaper>());

        foreach (var type in typeof(OperationPipeline).Assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false }))
        {
            foreach (var contract in type.GetInterfaces().Where(i => i.IsGenericType))
            {
                var definition = contract.GetGenericTypeDefinition();
                if (definition == typeof(IOperation<,>))
                {
                    services.AddScoped(type);
                }
                else if (definition == typeof(IValidator<>))
                {
                    services.AddSingleton(contract, type);
                }
            }
        }

        return services;
    }
}
