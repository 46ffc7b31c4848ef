namespace Groundwork.Platform.Auth;

/// <summary>API-key scopes (docs/api/README.md). A session token carries all of them; a key carries the ones it was given.</summary>
public static class Scopes
{
    public const string UsersRead = "users:read";
    public const string UsersWrite = "users:write";
    public const string PostsRead = "posts:read";
    public const string PostsWrite = "posts:write";
    public const string OrdersRead = "orders:read";
    public const string OrdersWrite = "orders:write";
    public const string AccountsRead = "accounts:read";
    public const string TransfersWrite = "transfers:write";

    /// <summary>Managing webhooks (admins only, whatever the key's other scopes).</summary>
    public const string WebhooksManage = "webhooks:manage";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        UsersRead, UsersWrite, PostsRead, PostsWrite, OrdersRead, OrdersWrite, AccountsRead, TransfersWrite, WebhooksManage,
    };
}
