namespace Groundwork.Platform.Hosting;

/// <summary>Something a feature keeps only for a while (delivery logs, the audit log): deletes what is past its time.</summary>
public interface IRetentionPolicy
{
    string Name { get; }

    /// <summary>
    /// Deletes one slice (a bounded number of rows, one short statement or two) of what is older than its retention
    /// at <paramref name="now"/>; returns how many rows went, 0 when nothing is left. <see cref="RetentionJob"/> calls
    /// it until then.
    /// </summary>
    Task<int> PruneSliceAsync(DateTime now, CancellationToken cancellationToken);
}

/// <summary>Runs every <see cref="IRetentionPolicy"/> ten minutes after start and every ten minutes after that.</summary>
public sealed class RetentionJob(IServiceScopeFactory scopes, TimeProvider clock, ILogger<RetentionJob> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var background = BackgroundWork.Begin("retention");
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        foreach (var policy in scope.ServiceProvider.GetServices<IRetentionPolicy>())
        {
            try
            {
                var now = clock.GetUtcNow().UtcDateTime;
                var deleted = 0;
                for (int slice; (slice = await policy.PruneSliceAsync(now, cancellationToken)) > 0;)
                {
                    deleted += slice;
                }

                if (deleted > 0)
                {
                    logger.LogInformation("Retention: {Count} rows of {Policy} deleted", deleted, policy.Name);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Retention of {Policy} failed; it is tried again at the next run", policy.Name);
            }
        }
    }
}
