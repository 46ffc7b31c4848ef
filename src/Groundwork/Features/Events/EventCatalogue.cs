using Groundwork.Platform.Auth;

namespace Groundwork.Features.Events;

/// <summary>
/// Every event type (docs/api/events.md) and the API-key scope a subscriber needs for it: an event is readable
/// by whoever may read the resource it is about. Sessions carry every scope; who sees which single event is the
/// event's own audience, stored with it.
/// </summary>
public static class EventCatalogue
{
    public static readonly IReadOnlyDictionary<string, string> ScopeByType = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["user.created"] = Scopes.UsersRead,
        ["user.updated"] = Scopes.UsersRead,
        ["user.deleted"] = Scopes.UsersRead,
        ["post.published"] = Scopes.PostsRead,
        ["post.unpublished"] = Scopes.PostsRead,
        ["post.deleted"] = Scopes.PostsRead,
        ["order.created"] = Scopes.OrdersRead,
        ["order.paid"] = Scopes.OrdersRead,
        ["order.cancelled"] = Scopes.OrdersRead,
        ["order.refunded"] = Scopes.OrdersRead,
        ["transfer.completed"] = Scopes.AccountsRead,
        ["account.debited"] = Scopes.AccountsRead,
        ["account.credited"] = Scopes.AccountsRead,
        ["auth.login_succeeded"] = Scopes.UsersRead,
        ["auth.login_failed"] = Scopes.UsersRead,
        ["auth.access_denied"] = Scopes.UsersRead,
        ["auth.refresh_token_reused"] = Scopes.UsersRead,
    };

    /// <summary>The most types one subscription may list (there are fewer; more is a malformed request).</summary>
    public const int MaxTypes = 32;
}
