namespace Groundwork.Platform.Messaging;

/// <summary>
/// The pause between two passes of the outbox relay or of the durable consumers (<c>Groundwork:Messaging:BatchWindow</c>,
/// <c>Groundwork:Messaging:ConsumerBatchWindow</c>).
/// A pass's cost is mostly fixed (a transaction, a lock, a query), so under load the events committed within the
/// window go in one pass; after a quiet spell the previous pass began long ago, and an event goes at once.
/// </summary>
internal static class BatchWindow
{
    /// <summary>Waits for what is left of <paramref name="window"/> since <paramref name="passStarted"/> (a timestamp of <paramref name="clock"/>).</summary>
    public static Task WaitRestAsync(TimeProvider clock, long passStarted, TimeSpan window, CancellationToken cancellationToken)
    {
        var since = clock.GetElapsedTime(passStarted);
        return since < window ? Task.Delay(window - since, clock, cancellationToken) : Task.CompletedTask;
    }
}
