using FluentValidation;

namespace Groundwork.Platform.Operations;

public enum SortOrder
{
    Asc,
    Desc,
}

/// <summary>Offset paging as every list request carries it (SPEC §4 conventions).</summary>
public sealed record PageRequest(int Page = 1, int Limit = 20, string Sort = "createdAt", SortOrder Order = SortOrder.Desc)
{
    public const int MaxLimit = 100;

    public int Skip => (Page - 1) * Limit;
}

public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int Limit, int Total)
{
    public int TotalPages => Total == 0 ? 0 : (int)Math.Ceiling(Total / (double)Limit);
}

/// <summary>A keyset page (SPEC §4 cursor lists): the cost stays flat however deep the page.</summary>
public sealed record CursorPage<T>(IReadOnlyList<T> Items, int Limit, bool HasMore, string? NextCursor);

public static class PageRules
{
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
            if (page.Page < 1)
            {
                context.AddFailure("page", "Must be at least 1");
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
