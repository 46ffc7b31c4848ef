using FluentValidation;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Realtime;

namespace Groundwork.Features.Events;

/// <param name="Types">Event types wanted; null means every type the credential may read.</param>
/// <param name="After">The last sequence the client has (SSE <c>Last-Event-ID</c>); null starts from now.</param>
/// <param name="Owner">Only events about this user's resources (GraphQL <c>orderUpdated(userId)</c>): the user themself or an admin.</param>
public sealed record SubscribeToEventsRequest(IReadOnlyList<string>? Types, long? After, Guid? Owner = null);

public sealed class SubscribeToEventsValidator : AbstractValidator<SubscribeToEventsRequest>
{
    public SubscribeToEventsValidator()
    {
        RuleFor(r => r.Types)
            .Must(t => t is null || (t.Count is > 0 and <= EventCatalogue.MaxTypes)).WithMessage($"List 1 to {EventCatalogue.MaxTypes} event types, comma-separated")
            .Must(t => t is null || t.All(EventCatalogue.ScopeByType.ContainsKey))
            .WithMessage(r => $"Unknown event type '{r.Types!.First(t => !EventCatalogue.ScopeByType.ContainsKey(t))}'; see the event catalogue")
            .OverridePropertyName("types");
        RuleFor(r => r.After).GreaterThanOrEqualTo(0).OverridePropertyName("lastEventId");
    }
}

/// <summary>
/// Opens an event stream (SSE today; GraphQL subscriptions and gRPC use the same operation): checks who may
/// subscribe to what and whether a resume position can still be served, and returns what the stream will carry.
/// Which single events reach the caller is decided per event by its stored audience (<see cref="EventStream"/>).
/// </summary>
public sealed class SubscribeToEvents(EventStream stream, StreamLimits limits) : IOperation<SubscribeToEventsRequest, EventSelection>
{
    public Policy Policy => Policy.Authenticated();

    public async Task<Result<EventSelection>> HandleAsync(SubscribeToEventsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        HashSet<string> types;
        if (request.Types is { } wanted)
        {
            types = new HashSet<string>(wanted, StringComparer.Ordinal);
            if (types.FirstOrDefault(t => !caller.HasScope(EventCatalogue.ScopeByType[t])) is { } refused)
            {
                return Error.Forbidden($"The credential lacks the '{EventCatalogue.ScopeByType[refused]}' scope needed for {refused} events");
            }
        }
        else
        {
            types = EventCatalogue.ScopeByType.Where(kv => caller.HasScope(kv.Value)).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
            if (types.Count == 0)
            {
                return Error.Forbidden("The credential has no read scope, so no event may be streamed to it");
            }
        }

        if (request.Owner is { } owner && !caller.Is(owner) && !caller.IsAdmin)
        {
            // As GET /users/{id}/orders: someone else's resources do not exist for a non-admin.
            return caller.IsStaff ? Error.Forbidden("Only admins may follow other users' events") : Error.NotFound("User");
        }

        if (request.After is { } after)
        {
            var latest = await stream.LatestSequenceAsync(cancellationToken);
            if (after > latest)
            {
                return Error.Conflict($"No event {after} exists yet (the newest is {latest}); reconnect without Last-Event-ID");
            }

            // A position just before the oldest kept event is still whole; anything older has lost events.
            if (await stream.OldestRetainedAsync(cancellationToken) is { } oldest && after < oldest - 1)
            {
                return Error.Conflict($"Events after {after} are no longer kept (the oldest is {oldest}); reload what you need and reconnect without Last-Event-ID");
            }
        }

        // "From now" is fixed here, before the slot is taken: whatever happens after this call is never skipped,
        // however late the transport starts reading (and a taken slot tells a test the position is set).
        var from = request.After ?? await stream.LatestSequenceAsync(cancellationToken);
        if (limits.TryOpen(caller) is not { } slot)
        {
            // A cap on open streams, not a rate: no RateLimit headers, since no wait makes room; closing a stream does.
            return new Error(ErrorCode.RateLimited, $"At most {limits.Max} event streams may be open at once per user; close one first");
        }

        return new EventSelection(caller, types, from, slot) { Owner = request.Owner };
    }
}
