using System.Diagnostics.Metrics;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// Publishes committed events from the outbox to the broker, at least once, in sequence order.
/// Each pass, under a database-wide lock (so several nodes can run it without doing the same work twice):
/// <list type="number">
/// <item>numbers committed rows that have no sequence yet, in the order they were written, and commits that;</item>
/// <item>publishes numbered, unpublished rows in sequence order and waits for the broker to accept them;</item>
/// <item>marks them published.</item>
/// </list>
/// A broker that refuses leaves the rows for the next pass (with back-off); a crash between 2 and 3 publishes
/// them again under the same sequence, which consumers recognise. Published rows are kept for
/// <c>Groundwork:Messaging:Retention</c> for replay, then pruned (docs/adr/0014-outbox-relay.md).
/// </summary>
public sealed class OutboxRelay(
    IServiceScopeFactory scopes, IEventBroker broker, OutboxSignal signal, GroundworkSettings settings, TimeProvider clock, ILogger<OutboxRelay> logger)
    : BackgroundService
{
    public const int BatchSize = 500;

    /// <summary>Registers the lag gauge for this relay (one per host).</summary>
    public void RegisterMetrics() =>
        Meter.CreateObservableGauge("groundwork.outbox.oldest_waiting_age", () => OldestWaitingAge.TotalSeconds, unit: "s",
            description: "How long the oldest event waiting for the broker has waited (0 when none)");

    /// <summary>The PostgreSQL advisory lock key the relay holds during a pass ("gw-relay").</summary>
    private const long LockKey = 0x67772D72656C6179;

    private static readonly Meter Meter = new("Groundwork.Messaging");
    private static readonly Counter<long> Published = Meter.CreateCounter<long>("groundwork.outbox.published", unit: "{event}", description: "Events the relay published");
    private static readonly Histogram<double> Lag = Meter.CreateHistogram<double>("groundwork.outbox.lag", unit: "s",
        description: "Age of the oldest event in each published batch (commit to publication)");

    private readonly SemaphoreSlim _pass = new(1, 1);
    private long _lastFailureLog;

    /// <summary>When the oldest event this relay last saw waiting was committed (null: nothing waited).</summary>
    private DateTime? _oldestWaiting;

    /// <summary>
    /// The relay's lag as operators watch it: how long the oldest event still waiting for the broker has waited
    /// (0 when none). It grows while the broker is down; <c>groundwork.outbox.lag</c> records it per published batch.
    /// </summary>
    public TimeSpan OldestWaitingAge => _oldestWaiting is { } oldest ? clock.GetUtcNow().UtcDateTime - oldest : TimeSpan.Zero;
    private DateTime _nextPrune;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var background = Hosting.BackgroundWork.Begin("outbox-relay");
        var backoff = InitialBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var started = clock.GetTimestamp();
                var moved = await RelayAsync(stoppingToken);
                backoff = InitialBackoff;
                await PruneIfDueAsync(stoppingToken);
                if (moved < BatchSize)
                {
                    await signal.WaitAsync(settings.RelayPollInterval, stoppingToken);
                    await BatchWindow.WaitRestAsync(clock, started, settings.EventBatchWindow, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFailure(e);
                try
                {
                    // Jitter keeps nodes that failed together from retrying together.
                    await Task.Delay(backoff + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 100)), clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>On shutdown, one last pass publishes what this node committed (bounded by the host's shutdown timeout).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        using var background = Hosting.BackgroundWork.Begin("outbox-relay");
        try
        {
            await RelayAsync(cancellationToken);
        }
        catch (Exception e)
        {
            LogFailure(e);
        }
    }

    /// <summary>Runs passes until nothing is waiting (or the lock is elsewhere); returns how many events were published.</summary>
    public async Task<int> RelayAsync(CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken);
        try
        {
            var total = 0;
            while (true)
            {
                await NumberAsync(cancellationToken);
                var published = await PublishAsync(cancellationToken);
                total += published;
                if (published < BatchSize)
                {
                    return total;
                }
            }
        }
        finally
        {
            _pass.Release();
        }
    }

    /// <summary>
    /// Gives committed, unnumbered rows the next sequences, in the order they were written: one statement, under the
    /// lock. Gap-free: numbers are handed out only under the lock and only to committed rows, and pruning always
    /// keeps the newest row, so the maximum never goes back.
    /// </summary>
    private async Task NumberAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await TryLockAsync(db, cancellationToken))
        {
            return;
        }

        await db.Database.ExecuteSqlAsync($"""
            UPDATE outbox SET sequence = numbered.next
            FROM (SELECT number, (SELECT COALESCE(MAX(sequence), 0) FROM outbox) + ROW_NUMBER() OVER (ORDER BY number) AS next
                  FROM outbox WHERE sequence IS NULL ORDER BY number LIMIT {BatchSize}) AS numbered
            WHERE outbox.number = numbered.number
            """, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<int> PublishAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await TryLockAsync(db, cancellationToken))
        {
            // Another node is publishing: the lag is its to report.
            _oldestWaiting = null;
            return 0;
        }

        var batch = await db.OutboxMessages.AsNoTracking()
            .Where(m => m.Sequence != null && m.PublishedAt == null)
            .OrderBy(m => m.Sequence)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        _oldestWaiting = batch.Count == 0 ? null : batch.Min(m => m.OccurredAt);
        if (batch.Count == 0)
        {
            return 0;
        }

        // A span only for a batch that carries events: idle polls are not traced.
        using var activity = Hosting.Observability.Source.StartActivity("outbox publish");
        activity?.SetTag("groundwork.events", batch.Count);
        var events = batch.Select(EventEnvelope.From).ToList();
        // The transaction (and the relay lock with it) stays open while the broker confirms: bounded, so a broker that
        // stops confirming (RabbitMQ blocks publishers on a memory or disk alarm) cannot hold it open for as long.
        using (var publishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            publishing.CancelAfter(settings.EventPublishTimeout);
            try
            {
                await broker.PublishAsync(events, publishing.Token);
            }
            catch (OperationCanceledException) when (publishing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The broker did not confirm {events.Count} events within {settings.EventPublishTimeout} (Groundwork:Messaging:PublishTimeout); they will be sent again");
            }
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var first = events[0].Sequence;
        var last = events[^1].Sequence;
        await db.OutboxMessages.Where(m => m.Sequence >= first && m.Sequence <= last)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.PublishedAt, now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        _oldestWaiting = null;

        Published.Add(events.Count);
        Lag.Record((now - batch.Min(m => m.OccurredAt)).TotalSeconds);
        return events.Count;
    }

    /// <summary>
    /// Deletes published events older than the retention, a slice at a time, always keeping the newest row (its
    /// sequence is where numbering continues) and every event a durable consumer has yet to process. Returns how
    /// many were deleted.
    /// </summary>
    public async Task<int> PruneAsync(DateTime publishedBefore, CancellationToken cancellationToken)
    {
        var deleted = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            var newest = await db.OutboxMessages.MaxAsync(m => m.Sequence, cancellationToken) ?? 0;
            // Nor anything a durable consumer (webhooks) has not processed yet: a consumer that was down for longer
            // than the retention still gets every event.
            var consumed = await db.Set<ConsumerCheckpoint>().MinAsync(c => (long?)c.Sequence, cancellationToken) ?? long.MaxValue;
            var slice = await db.OutboxMessages
                .Where(m => m.PublishedAt < publishedBefore && m.Sequence < newest && m.Sequence <= consumed)
                .OrderBy(m => m.Sequence)
                .Take(5_000)
                .Select(m => m.Number)
                .ToListAsync(cancellationToken);
            if (slice.Count == 0)
            {
                return deleted;
            }

            deleted += await db.OutboxMessages.Where(m => slice.Contains(m.Number)).ExecuteDeleteAsync(cancellationToken);
        }
    }

    private async Task PruneIfDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (now < _nextPrune)
        {
            return;
        }

        _nextPrune = now + TimeSpan.FromMinutes(10);
        var deleted = await PruneAsync(now - settings.EventRetention, cancellationToken);
        if (deleted > 0)
        {
            logger.LogInformation("Pruned {Count} published events older than {Retention}", deleted, settings.EventRetention);
        }
    }

    /// <summary>PostgreSQL: one relay pass at a time across every node (released with the transaction). SQLite is one node.</summary>
    private static async Task<bool> TryLockAsync(GroundworkDbContext db, CancellationToken cancellationToken) =>
        !db.Database.IsNpgsql()
        || await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock({LockKey}) AS \"Value\"").SingleAsync(cancellationToken);

    private void LogFailure(Exception e)
    {
        var now = clock.GetTimestamp();
        if (_lastFailureLog == 0 || clock.GetElapsedTime(_lastFailureLog, now) > TimeSpan.FromSeconds(30))
        {
            _lastFailureLog = now;
            logger.LogWarning(e, "Could not publish events through {Broker}; they stay in the outbox and are retried", broker.Name);
        }
    }

    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
}
