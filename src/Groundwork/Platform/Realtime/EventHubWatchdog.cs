namespace Groundwork.Platform.Realtime;

/// <summary>
/// While this node has subscribers, compares the newest stored sequence with what its <see cref="EventHub"/> has
/// seen. If the database stays ahead for a whole check interval (this node missed a broker delivery, or another
/// node relays with no broker between them), every subscriber is told to catch up from the database. So a stream
/// never waits on an event that is already stored for longer than about two intervals.
/// </summary>
public sealed class EventHubWatchdog(EventHub hub, EventStream stream, TimeProvider clock, ILogger<EventHubWatchdog> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var background = Hosting.BackgroundWork.Begin("event-hub-watchdog");
        using var timer = new PeriodicTimer(Interval, clock);
        long seenAhead = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (hub.SubscriberCount == 0)
                {
                    seenAhead = 0;
                    continue;
                }

                try
                {
                    var latest = await stream.LatestSequenceAsync(stoppingToken);
                    // Ahead at the last tick and still not delivered: missed, not merely in flight.
                    if (seenAhead > hub.LastSequence)
                    {
                        hub.MarkBehind(seenAhead);
                    }

                    seenAhead = latest > hub.LastSequence ? latest : 0;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogDebug(e, "Could not compare the event hub with the database");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
