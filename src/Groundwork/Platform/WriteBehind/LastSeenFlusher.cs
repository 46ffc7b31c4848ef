using Groundwork.Platform.Configuration;

namespace Groundwork.Platform.WriteBehind;

/// <summary>
/// Flushes <see cref="LastSeenBuffer"/> every <c>Groundwork:WriteBehind:Interval</c> (default 5 s) and once more when
/// the host stops gracefully. A failed flush puts its entries back for the next one.
/// </summary>
public sealed class LastSeenFlusher(
    LastSeenBuffer buffer, IServiceScopeFactory scopes, GroundworkSettings settings, TimeProvider clock, ILogger<LastSeenFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.WriteBehindInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync flushes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    /// <summary>Writes everything buffered so far; returns how many timestamps were written.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var entries = buffer.Drain();
        if (entries.Count == 0)
        {
            return 0;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            foreach (var writer in scope.ServiceProvider.GetServices<ILastSeenWriter>())
            {
                var batch = entries.Where(e => e.Key.Kind == writer.Kind).Select(e => (e.Key.Id, e.Value)).ToList();
                if (batch.Count > 0)
                {
                    await writer.WriteAsync(batch, cancellationToken);
                }
            }

            return entries.Count;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not write {Count} last-seen timestamps; they are kept for the next flush", entries.Count);
            buffer.Restore(entries);
            return 0;
        }
    }
}
