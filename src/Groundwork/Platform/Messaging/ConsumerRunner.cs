using System.Collections.Concurrent;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.Realtime;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// Runs every <see cref="IEventConsumer"/> over the event log in the database (the outbox, in sequence order),
/// whatever the broker: each pass reads up to <see cref="BatchSize"/> events after the consumer's checkpoint,
/// hands it those it wants, and commits their effects with the new checkpoint in one transaction (a PostgreSQL
/// advisory lock per consumer keeps nodes from running the same consumer at once). An event a consumer keeps
/// failing on is retried <see cref="MaxAttempts"/> times, then written to <c>dead_letters</c> and skipped.
/// It wakes when this node's hub sees new events, and at least every second; under load, passes are at least
/// <c>Groundwork:Messaging:ConsumerBatchWindow</c> (250 ms) apart (see <see cref="BatchWindow"/>).
/// </summary>
public sealed class ConsumerRunner(
    IServiceScopeFactory scopes, EventHub hub, GroundworkSettings settings, TimeProvider clock, ILogger<ConsumerRunner> logger)
    : BackgroundService
{
    public const int BatchSize = 200;
    public const int MaxAttempts = 5;

    private readonly ConcurrentDictionary<(string Consumer, Guid EventId), (int Count, string Error)> _failures = new();
    private readonly SemaphoreSlim _pass = new(1, 1);
    private readonly ConcurrentDictionary<string, long> _lastFailureLog = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var background = Hosting.BackgroundWork.Begin("event-consumers");
        using var subscription = hub.Subscribe();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var started = clock.GetTimestamp();
                var (busy, failed) = await RunAsync(stoppingToken);
                if (failed)
                {
                    // A consumer failed: try again soon (a failing event is set aside after MaxAttempts tries).
                    await Task.Delay(RetryDelay, clock, stoppingToken);
                }
                else if (!busy)
                {
                    await WaitAsync(subscription, stoppingToken);
                    await BatchWindow.WaitRestAsync(clock, started, settings.ConsumerBatchWindow, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>The pause after a failed pass; the database being down costs one failed pass per consumer per pause.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// One pass of every consumer, each on its own (one failing never holds the others back). Busy: some consumer
    /// had a full batch (more is waiting). Failed: some consumer's pass rolled back.
    /// </summary>
    public async Task<(bool Busy, bool Failed)> RunAsync(CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken);
        try
        {
            var busy = false;
            var failed = false;
            await using var names = scopes.CreateAsyncScope();
            foreach (var name in names.ServiceProvider.GetServices<IEventConsumer>().Select(c => c.Name).ToList())
            {
                try
                {
                    busy |= await PassAsync(name, cancellationToken) == BatchSize;
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    failed = true;
                    LogFailure(name, e);
                }
            }

            return (busy, failed);
        }
        finally
        {
            _pass.Release();
        }
    }

    private void LogFailure(string consumer, Exception e)
    {
        var now = clock.GetTimestamp();
        if (_lastFailureLog.TryGetValue(consumer, out var last) && clock.GetElapsedTime(last, now) < TimeSpan.FromSeconds(30))
        {
            return;
        }

        _lastFailureLog[consumer] = now;
        logger.LogWarning(e, "Event consumer {Consumer} failed; its pass is rolled back and tried again", consumer);
    }

    private async Task<int> PassAsync(string name, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var consumer = scope.ServiceProvider.GetServices<IEventConsumer>().Single(c => c.Name == name);
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // A failed save ends the pass (it is tried again): EF's savepoint before SaveChanges would be a round trip for nothing.
        db.Database.AutoSavepointsEnabled = false;
        if (db.Database.IsNpgsql()
            && !await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock(hashtext({"gw-consumer:" + name})) AS \"Value\"").SingleAsync(cancellationToken))
        {
            return 0;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var checkpoint = await db.Set<ConsumerCheckpoint>().FindAsync([name], cancellationToken);
        if (checkpoint is null)
        {
            checkpoint = new ConsumerCheckpoint { Consumer = name };
            db.Add(checkpoint);
        }

        var from = checkpoint.Sequence;
        // The next events after the checkpoint, however far on they are: a range that was pruned (a consumer added
        // after retention removed its start) must not look like "nothing to do" forever.
        var events = await db.OutboxMessages.AsNoTracking()
            .Where(m => m.Sequence > from)
            .OrderBy(m => m.Sequence)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        if (events.Count == 0)
        {
            return 0;
        }

        using var activity = Hosting.Observability.Source.StartActivity("consume " + name);
        activity?.SetTag("groundwork.events", events.Count);
        if (from > 0 && events[0].Sequence > from + 1)
        {
            logger.LogWarning("Consumer {Consumer} resumes at event {Sequence}; events {From} to {To} were pruned before it saw them",
                name, events[0].Sequence, from + 1, events[0].Sequence - 1);
        }

        foreach (var message in events)
        {
            var e = EventEnvelope.From(message);
            if (consumer.Wants(e.Type))
            {
                if (_failures.TryGetValue((name, e.Id), out var failed) && failed.Count >= MaxAttempts)
                {
                    db.Add(new DeadLetter { Consumer = name, EventId = e.Id, Sequence = e.Sequence, EventType = e.Type, Error = failed.Error, Attempts = failed.Count, CreatedAt = now });
                    logger.LogError("Consumer {Consumer} gave up on event {EventId} ({Type}) after {Attempts} attempts: {Error}", name, e.Id, e.Type, failed.Count, failed.Error);
                }
                else
                {
                    try
                    {
                        await consumer.HandleAsync(e, cancellationToken);
                    }
                    catch (Exception error) when (error is not OperationCanceledException)
                    {
                        // Nothing of this pass commits; the event is tried again, and set aside after MaxAttempts.
                        var text = error.Message.Length > 1_000 ? error.Message[..1_000] : error.Message;
                        _failures.AddOrUpdate((name, e.Id), (1, text), (_, f) => (f.Count + 1, text));
                        throw;
                    }
                }
            }

            checkpoint.Sequence = e.Sequence;
        }

        checkpoint.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        foreach (var message in events)
        {
            _failures.TryRemove((name, message.Id), out _);
        }

        return events.Count;
    }

    private static async Task WaitAsync(EventHub.Subscription subscription, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await subscription.Events.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        while (subscription.Events.TryRead(out _))
        {
        }

        subscription.TakeBehind();
    }
}
