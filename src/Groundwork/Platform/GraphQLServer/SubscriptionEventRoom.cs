namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// Room for a subscription's events between its source and the client. GraphQL.NET cannot push back: an observer's
/// <c>OnNext</c> returns at once and starts resolving the event, so a source that reads as fast as events are
/// published would pile them up in memory, resolving or resolved and waiting to be sent to a client that reads
/// slowly (each answer may be as large as the resolution budget allows). Instead the source waits for room before it
/// reads the next event (<see cref="WaitAsync"/>, passed to <c>ObservableStream</c>), and the transport gives the
/// room back once it has sent the event's answer (<see cref="Return"/>). Events published faster than that wait in
/// the event stream (its bounded queue per subscriber, then the database it catches up from), where every stream's
/// backlog waits. Every GraphQL subscription's source must wait for room: <see cref="Return"/> past the bound
/// throws, so a source wired without it fails at its first event instead of running unbounded.
/// </summary>
public sealed class SubscriptionEventRoom : IDisposable
{
    /// <summary>
    /// Events read from the source and not yet sent, at most. The source takes room before it reads, so while
    /// it waits for the next event one unit is held by that read.
    /// </summary>
    public const int MaxEventsInFlight = 2;

    private readonly SemaphoreSlim _room = new(MaxEventsInFlight, MaxEventsInFlight);

    public Task WaitAsync(CancellationToken cancellationToken) => _room.WaitAsync(cancellationToken);

    public void Return() => _room.Release();

    public void Dispose() => _room.Dispose();
}

