using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Realtime;

namespace Groundwork.Tests.Events;

/// <summary>
/// A replay's audience is applied twice: as a query by the database (<c>EventStream.VisibleTo</c>) and then by the
/// rule live events go through (<c>EventStream.Selects</c>, <see cref="EventAudience.Allows"/>). The query must never
/// drop an event the rule would deliver, or a reconnecting client silently misses it; and it should drop every one
/// the rule would not. Checked over every visibility, owner, second owner, caller and owner filter.
/// </summary>
public sealed class ReplayAudienceTests
{
    [Fact]
    public void The_replay_query_keeps_exactly_the_events_the_live_rule_delivers()
    {
        var me = Guid.NewGuid();
        var other = Guid.NewGuid();
        Guid?[] owners = [null, me, other];
        var events = (
            from visibility in Enum.GetValues<EventVisibility>()
            from owner in owners
            from otherOwner in owners
            select new OutboxMessage
            {
                Type = "order.paid", Data = "{}", Subject = Guid.NewGuid(), Visibility = visibility, Owner = owner, OtherOwner = otherOwner,
                Sequence = 1,
            }).ToList();

        Caller[] callers =
        [
            Caller.Anonymous,
            new() { UserId = me, Role = Role.User, Scopes = Scopes.All },
            new() { UserId = me, Role = Role.Moderator, Scopes = Scopes.All },
            new() { UserId = me, Role = Role.Admin, Scopes = Scopes.All },
        ];
        var compared = 0;
        foreach (var caller in callers)
        {
            foreach (var ownerFilter in owners)
            {
                var selection = new EventSelection(caller, new HashSet<string> { "order.paid" }, After: 0) { Owner = ownerFilter };
                var byQuery = EventStream.VisibleTo(selection, events.AsQueryable()).ToHashSet();
                foreach (var e in events)
                {
                    var delivered = EventStream.Selects(selection, EventEnvelope.From(e));
                    Assert.True(delivered == byQuery.Contains(e),
                        $"{caller.Role} (user {(caller.UserId == me ? "me" : "none")}), owner filter {Name(ownerFilter)}: event {e.Visibility} owned by {Name(e.Owner)} and {Name(e.OtherOwner)} is {(delivered ? "delivered" : "not delivered")} live but {(byQuery.Contains(e) ? "kept" : "dropped")} by the query");
                    compared++;
                }
            }
        }

        Assert.Equal(4 * 3 * 27, compared);

        string Name(Guid? id) => id is null ? "no one" : id == me ? "me" : "someone else";
    }
}
