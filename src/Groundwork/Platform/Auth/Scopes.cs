using System.Collections.Concurrent;
using System.Collections.Frozen;

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

    /// <summary>No scope at all (anonymous callers, a credential without a scope claim).</summary>
    public static readonly IReadOnlySet<string> None = FrozenSet<string>.Empty;

    private const int MaxRemembered = 1_024;
    private static readonly ConcurrentDictionary<string, IReadOnlySet<string>> Parsed = new(StringComparer.Ordinal);
    private static int _remembered;

    /// <summary>
    /// The set a credential's space-separated <c>scope</c> claim grants. Every request asks, and the claim is one of
    /// a few strings (a session token's is always the same; an API key's is a sorted, distinct subset of
    /// <see cref="All"/>, so at most 512 exist), so each distinct string is split once and its frozen set shared.
    /// The memo stops growing at 1,024 entries all the same; past that a string is split on every call.
    /// </summary>
    public static IReadOnlySet<string> Parse(string? claim)
    {
        if (string.IsNullOrEmpty(claim))
        {
            return None;
        }

        if (Parsed.TryGetValue(claim, out var known))
        {
            return known;
        }

        var set = claim.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);
        if (Volatile.Read(ref _remembered) < MaxRemembered && Parsed.TryAdd(claim, set))
        {
            Interlocked.Increment(ref _remembered);
        }

        return set;
    }
}
