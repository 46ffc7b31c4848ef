using System.Globalization;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Http;

/// <summary>
/// Reads list parameters from the query string into a request, collecting one error per bad field and
/// refusing parameters the endpoint does not know (a typo must not silently return everything).
/// </summary>
public sealed class QueryReader
{
    private readonly IQueryCollection _query;
    private readonly List<FieldError> _errors = [];

    /// <summary>An offset-paged list: <c>page</c>, <c>limit</c>, <c>sort</c>, <c>order</c> plus the given filters.</summary>
    public QueryReader(HttpContext context, params string[] allowed)
        : this(context, allowed.Concat(["page", "limit", "sort", "order"]))
    {
    }

    private QueryReader(HttpContext context, IEnumerable<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(context);
        _query = context.Request.Query;
        var known = new HashSet<string>(allowed, StringComparer.OrdinalIgnoreCase);
        foreach (var key in _query.Keys.Where(k => !known.Contains(k) && !known.Contains(k.Replace("_", "", StringComparison.Ordinal))))
        {
            _errors.Add(new FieldError(key, "Unknown query parameter"));
        }
    }

    /// <summary>A cursor-paged list: <c>limit</c> plus the given parameters; offset paging parameters are unknown here.</summary>
    public static QueryReader ForCursor(HttpContext context, params string[] allowed) => new(context, allowed.Append("limit"));

    /// <summary>Exactly the given parameters (no paging).</summary>
    public static QueryReader Only(HttpContext context, params string[] allowed) => new(context, allowed);

    public IReadOnlyList<FieldError> Errors => _errors;

    /// <summary>Reports a bad value found outside the query string (a header), with the query's own errors.</summary>
    public void Fail(string field, string message) => _errors.Add(new FieldError(field, message));

    public string? String(string name, int maxLength = 200)
    {
        var value = Raw(name);
        if (value is not null && value.Length > maxLength)
        {
            _errors.Add(new FieldError(name, $"Must be at most {maxLength} characters"));
            return null;
        }

        return value;
    }

    public long? Long(string name)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }

        _errors.Add(new FieldError(name, "Must be an integer"));
        return null;
    }

    public int? Int(string name)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }

        _errors.Add(new FieldError(name, "Must be an integer"));
        return null;
    }

    public DateTime? Date(string name)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d))
        {
            return d.UtcDateTime;
        }

        _errors.Add(new FieldError(name, "Must be an RFC 3339 timestamp"));
        return null;
    }

    public T? Parse<T>(string name, TryParseFunc<T> parse, string expected)
        where T : struct
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (parse(value, out var parsed))
        {
            return parsed;
        }

        _errors.Add(new FieldError(name, $"Must be one of: {expected}"));
        return null;
    }

    public delegate bool TryParseFunc<T>(string? value, out T parsed);

    public PageRequest Page(string defaultSort = "createdAt")
    {
        var order = Raw("order")?.ToLowerInvariant() switch
        {
            null or "desc" => SortOrder.Desc,
            "asc" => SortOrder.Asc,
            _ => Invalid("order", "Must be asc or desc", SortOrder.Desc),
        };
        return new PageRequest(Int("page") ?? 1, Int("limit") ?? 20, Raw("sort") ?? defaultSort, order);
    }

    private T Invalid<T>(string name, string message, T fallback)
    {
        _errors.Add(new FieldError(name, message));
        return fallback;
    }

    /// <summary>A parameter by its camelCase or snake_case name; a repeated parameter is an error.</summary>
    private string? Raw(string name)
    {
        var snake = string.Concat(name.Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString()));
        foreach (var key in new[] { name, snake })
        {
            if (_query.TryGetValue(key, out var values))
            {
                if (values.Count > 1)
                {
                    _errors.Add(new FieldError(name, "Must be given once"));
                }

                return values[0];
            }
        }

        return null;
    }
}
