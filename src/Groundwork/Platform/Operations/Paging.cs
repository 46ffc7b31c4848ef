using FluentValidation;

namespace Groundwork.Platform.Operations;

public enum SortOrder
{
    Asc,
    Desc,
}

/// <summary>Offset paging as every list request carries it (docs/api/pagination.md).</summary>
/// <param name="CountTotal">
/// Whether to run the <c>count(*)</c> behind <c>total</c>. REST always shows it; GraphQL asks only when the
/// query selects <c>totalCount</c> or <c>pageInfo</c>, since the count often costs more than the page itself.
/// </param>
public sealed record PageRequest(int Page = 1, int Limit = 20, string Sort = "createdAt", SortOrder Order = SortOrder.Desc, bool CountTotal = true)
{
    public const int MaxLimit = 100;

    /// <summary>Far past any real list, and <c>(page - 1) × limit</c> still fits an int (no overflow, no 500).</summary>
    public const int MaxPage = 1_000_000;

    public int Skip => (Page - 1) * Limit;
}

/// <summary>A page of a list; <see cref="Total"/> is -1 when the request did not ask for it.</summary>
public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int Limit, int Total)
{
    public int TotalPages => Total <= 0 ? 0 : (int)Math.Ceiling(Total / (double)Limit);
}

/// <summary>A keyset page (docs/api/pagination.md): the cost stays flat however deep the page.</summary>
public sealed record CursorPage<T>(IReadOnlyList<T> Items, int Limit, bool HasMore, string? NextCursor);

public static class PageRules
{
    /// <summary>The list's total when the request asked for it, else -1 (see <see cref="PageRequest.CountTotal"/>).</summary>
    public static async Task<int> TotalAsync<T>(this IQueryable<T> query, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(page);
        return page.CountTotal ? await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(query, cancellationToken) : -1;
    }

    /// <summary>
    /// The list's total when the request asked for it, else -1, from the cache while no write changed
    /// <paramref name="list"/> since it was counted under the same <paramref name="filter"/> (exact either way).
    /// </summary>
    public static async Task<int> TotalAsync<T>(this IQueryable<T> query, PageRequest page, Caching.EntityCache cache, string list, string filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(cache);
        return page.CountTotal
            ? await cache.GetTotalAsync(list, filter, ct => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(query, ct), cancellationToken)
            : -1;
    }

    /// <summary>Accepts the listed field names in camelCase or snake_case; returns the canonical camelCase name.</summary>
    public static string? CanonicalSort(string sort, IReadOnlyCollection<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(sort);
        var compact = sort.Replace("_", "", StringComparison.Ordinal);
        return allowed.FirstOrDefault(a => string.Equals(a, compact, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The paging rules every offset list shares: page ≥ 1, limit 1–100, sort among the listed fields.</summary>
    public static IRuleBuilderOptionsConditions<T, PageRequest> ValidPage<T>(this IRuleBuilder<T, PageRequest> rule, IReadOnlyCollection<string> sortFields) =>
        rule.Custom((page, context) =>
        {
            if (page.Page is < 1 or > PageRequest.MaxPage)
            {
                context.AddFailure("page", $"Must be between 1 and {PageRequest.MaxPage}");
            }

            if (page.Limit is < 1 or > PageRequest.MaxLimit)
            {
                context.AddFailure("limit", $"Must be between 1 and {PageRequest.MaxLimit}");
            }

            if (CanonicalSort(page.Sort, sortFields) is null)
            {
                context.AddFailure("sort", $"Must be one of: {string.Join(", ", sortFields)}");
            }
        });
}

/// <summary>
/// Opaque keyset cursors (base64url of the last key seen), so clients never build cursors by arithmetic: one codec
/// for every cursor list (ledger entries, audit log, webhook deliveries).
/// </summary>
public static class KeysetCursor
{
    public static string Encode(long key) => System.Buffers.Text.Base64Url.EncodeToString(BitConverter.GetBytes(key));

    public static string Encode(Guid key) => System.Buffers.Text.Base64Url.EncodeToString(key.ToByteArray());

    /// <summary>A positive 64-bit key, or false for anything this service did not hand out.</summary>
    public static bool TryDecode(string? cursor, out long key)
    {
        key = 0;
        if (!TryBytes(cursor, 8, out var bytes))
        {
            return false;
        }

        key = BitConverter.ToInt64(bytes);
        return key > 0;
    }

    public static bool TryDecodeId(string? cursor, out Guid key)
    {
        key = Guid.Empty;
        if (!TryBytes(cursor, 16, out var bytes))
        {
            return false;
        }

        key = new Guid(bytes);
        return true;
    }

    private static bool TryBytes(string? cursor, int length, out byte[] bytes)
    {
        bytes = [];
        // Longer text cannot hold the key; refused before decoding anything.
        if (cursor is not { Length: > 0 } || cursor.Length > (length * 4 / 3) + 4)
        {
            return false;
        }

        try
        {
            bytes = System.Buffers.Text.Base64Url.DecodeFromChars(cursor);
            return bytes.Length == length;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
