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

public static class PageRules
{
    /// <summary>Accepts the listed field names in camelCase or snake_case; returns the canonical camelCase name.</summary>
    public static string? CanonicalSort(string sort, IReadOnlyCollection<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(sort);
        var compact = sort.Replace("_", "", StringComparison.Ordinal);
        return allowed.FirstOrDefault(a => string.Equals(a, compact, StringComparison.OrdinalIgnoreCase));
    }

    public static void Validate(PageRequest page, IReadOnlyCollection<string> sortFields, List<FieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(errors);
        if (page.Page < 1)
        {
            errors.Add(new FieldError("page", "Must be at least 1"));
        }

        if (page.Limit is < 1 or > PageRequest.MaxLimit)
        {
            errors.Add(new FieldError("limit", $"Must be between 1 and {PageRequest.MaxLimit}"));
        }

        if (CanonicalSort(page.Sort, sortFields) is null)
        {
            errors.Add(new FieldError("sort", $"Must be one of: {string.Join(", ", sortFields)}"));
        }
    }
}
