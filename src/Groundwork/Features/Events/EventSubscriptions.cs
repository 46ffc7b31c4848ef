using System.Runtime.CompilerServices;
using System.Text.Json;
using GraphQL;
using Groundwork.Platform.GraphQLServer;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Realtime;

namespace Groundwork.Features.Events;

/// <summary>
/// The source stream behind a GraphQL subscription field (<c>orderUpdated</c>, <c>postPublished</c>,
/// <c>accountActivity</c>): the pipeline authorizes it with the same <see cref="SubscribeToEvents"/> operation as
/// SSE and gRPC, each event's stored audience decides who gets it, and the field maps (or skips, with null) what
/// is left. The stream starts at the newest event when the field subscribes (the operation fixes it).
/// </summary>
public static class EventSubscriptions
{
    /// <param name="owner">Only events of this user's resources; the operation decides who may ask for whose.</param>
    public static async Task<IObservable<T?>> OpenAsync<T>(IResolveFieldContext context, IReadOnlyList<string> types, Func<EventEnvelope, T?> map, Guid? owner = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        var stream = context.RequestServices!.GetRequiredService<EventStream>();
        var selection = await context.RunAsync(context.Operation<SubscribeToEvents>(), new SubscribeToEventsRequest(types, null, owner));
        // Its stream slot goes back when the stream ends, and at the latest with the operation's scope (if the
        // operation is cancelled before anything subscribes, the stream never starts and never ends).
        context.RequestServices!.GetRequiredService<Platform.Hosting.ScopeDisposables>().Add(selection);
        // The next event is read only when the subscription has room for it (SubscriptionEventRoom): a burst waits in
        // the stream (the hub's queue, then the database), not in memory here.
        var room = context.Request().EventRoom;
        return new ObservableStream<T?>(ct => SelectAsync(stream.ReadAsync(selection, () => Task.CompletedTask, ct), map, ct), selection.Dispose, room.WaitAsync);
    }

    /// <summary>An event's <c>data</c> as the API's own DTO.</summary>
    public static T Data<T>(EventEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return JsonSerializer.Deserialize<T>(e.Data, Platform.Http.Json.Options) ?? throw new JsonException($"{e.Type} {e.Id} has no data");
    }

    private static async IAsyncEnumerable<T?> SelectAsync<T>(
        IAsyncEnumerable<EventEnvelope?> events, Func<EventEnvelope, T?> map, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            if (e is not null && map(e) is { } value)
            {
                yield return value;
            }
        }
    }
}
