using Groundwork.Platform.Configuration;

namespace Groundwork.Platform.WriteBehind;

/// <summary>
/// Flushes <see cref="LastSeenBuffer"/> and <see cref="CounterBuffer"/> every <c>Groundwork:WriteBehind:Interval</c> (default 5 s) and once more when
/// the host stops gracefully, in one transaction. Entries leave the buffer only once written, so a failed (or
/// interrupted) flush leaves them for the next.
/// </summary>
public sealed class WriteBehindFlusher(
    LastSeenBuffer buffer, CounterBuffer counters, IServiceScopeFactory scopes, GroundworkSettings settings, TimeProvider clock, ILogger<WriteBehindFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var background = Hosting.BackgroundWork.Begin("write-behind");
        using var timer = new PeriodicTimer(settings.WriteBehindInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Not cancelled by the stop signal: a flush under way finishes, then StopAsync flushes the rest.
                await FlushAsync(CancellationToken.None);
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

    /// <summary>Writes everything buffered so far; returns how many timestamps and counters were written.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        // One flush at a time (the timer's and the shutdown's may meet): two would both add the same view deltas.
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            return await FlushOnceAsync(cancellationToken);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task<int> FlushOnceAsync(CancellationToken cancellationToken)
    {
        var entries = buffer.Snapshot();
        var deltas = counters.Snapshot();
        if (entries.Length == 0 && deltas.Length == 0)
        {
            return 0;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<Persistence.GroundworkDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            foreach (var writer in scope.ServiceProvider.GetServices<ILastSeenWriter>())
            {
                var batch = entries.Where(e => e.Key.Kind == writer.Kind).Select(e => (e.Key.Id, e.Value)).ToList();
                if (batch.Count > 0)
                {
                    await writer.WriteAsync(batch, cancellationToken);
                }
            }

            foreach (var writer in scope.ServiceProvider.GetServices<ICounterWriter>())
            {
                var batch = deltas.Where(e => e.Key.Kind == writer.Kind).Select(e => (e.Key.Id, e.Value)).ToList();
                if (batch.Count > 0)
                {
                    await writer.WriteAsync(batch, cancellationToken);
                }
            }

            await transaction.CommitAsync(cancellationToken);
            buffer.Forget(entries);
            counters.Written(deltas);
            return entries.Length + deltas.Length;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var now = clock.GetTimestamp();
            if (_lastFailureLog == 0 || clock.GetElapsedTime(_lastFailureLog, now) > TimeSpan.FromSeconds(60))
            {
                _lastFailureLog = now;
                logger.LogWarning("Could not write {Count} buffered timestamps and counters; they stay buffered for the next flush: {Reason}",
                    entries.Length + deltas.Length, e.Message);
            }

            return 0;
        }
    }

    // Not disposed: the host may dispose this service before its last StopAsync flush, and a SemaphoreSlim
    // whose wait handle is never asked for holds nothing to release.
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private long _lastFailureLog;
}
