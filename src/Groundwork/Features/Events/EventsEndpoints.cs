using System.Globalization;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.Events;

public static class EventsEndpoints
{
    public static void MapEvents(this RouteGroupBuilder api)
    {
        api.MapGet("/events", (HttpContext http, [FromServices] SubscribeToEvents op) =>
            {
                var query = QueryReader.Only(http, "types", "after");
                var types = query.String("types", maxLength: 1_000)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                // A reconnecting EventSource sends Last-Event-ID; it wins over the ?after= of the original URL.
                var after = http.Request.Headers.TryGetValue("Last-Event-ID", out var header) && header.ToString().Length > 0
                    ? LastEventId(header.ToString(), query)
                    : query.Long("after");
                return Rest.RunAsync(http, query, op, new SubscribeToEventsRequest(types, after), selection => new EventStreamResult(selection));
            })
            .RequireAuthorization().WithTags("Events")
            .WithName("StreamEvents")
            .WithSummary("Stream events (Server-Sent Events)")
            .WithDescription("""
                A text/event-stream of the events the caller may see (docs/api/events.md), optionally only some types
                (`?types=order.paid,post.published`). Each event's `id:` is its sequence; reconnecting with
                `Last-Event-ID` (or `?after=`) first replays what was missed (events are kept 24 h by default), then
                continues live. Idle connections get a comment line every 15 s by default.
                """)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesErrors(400, 401, 403, 409, 429)
            // A stream lives as long as the client stays; the 30 s limit is for requests that answer once.
            .DisableRequestTimeout();

        api.MapGet("/admin/dead-letters", (HttpContext http, [FromServices] ListDeadLetters op) => Rest.RunAsync(http, op, new ListDeadLettersRequest(), Rest.Data))
            .RequireAuthorization().WithTags("Events")
            .WithName("ListDeadLetters").WithSummary("Events a consumer (webhooks) gave up on after 5 attempts (admins)")
            .Produces<DataEnvelope<IReadOnlyList<DeadLetterDto>>>().ProducesErrors(401, 403);
    }

    private static long? LastEventId(string value, QueryReader query)
    {
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }

        query.Fail("Last-Event-ID", "Must be the id (a non-negative integer) of an event this stream sent");
        return null;
    }
}
