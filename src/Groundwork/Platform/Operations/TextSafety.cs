using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;

namespace Groundwork.Platform.Operations;

/// <summary>
/// Refuses text no database column can hold: the NUL character (PostgreSQL text cannot store it) and unpaired
/// UTF-16 surrogates (not encodable as UTF-8). Runs on every request the pipeline sees, whatever the transport,
/// so such input is a 400 naming the field instead of a 500 from the database driver.
/// </summary>
public static class TextSafety
{
    private const int MaxDepth = 4;
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    /// <summary>The first field holding unsafe text, or null when every string is safe.</summary>
    public static FieldError? Check(object? request) => Check(request, "", 0);

    /// <summary>What a name that is not a plain label is told.</summary>
    public const string PlainLabelMessage = "Name must not contain control characters, direction overrides or line separators";

    /// <summary>
    /// A name shown to other people (a user's, an API key's): no control characters, and none of the characters that
    /// make text display as something else (U+202A–U+202E and U+2066–U+2069 reorder what follows, "\u202Egnp.exe" shows as
    /// "exe.png") or break it into lines (U+2028, U+2029). Joiners and the plain direction marks stay: scripts need them.
    /// </summary>
    public static bool IsPlainLabel(string? name) =>
        name is null || !name.Any(c => char.IsControl(c) || c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u2028' or '\u2029');

    public static bool IsSafe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    private static FieldError? Check(object? value, string path, int depth)
    {
        switch (value)
        {
            case null:
                return null;
            case string text:
                return IsSafe(text) ? null : new FieldError(path.Length == 0 ? "body" : path, "Must not contain NUL characters or unpaired surrogates");
            case IEnumerable items when depth < MaxDepth:
                var index = 0;
                foreach (var item in items)
                {
                    if (Check(item, $"{path}[{index++}]", depth + 1) is { } error)
                    {
                        return error;
                    }
                }

                return null;
        }

        var type = value.GetType();
        if (depth >= MaxDepth || type.IsPrimitive || type.IsEnum || type.Namespace?.StartsWith("Groundwork", StringComparison.Ordinal) != true)
        {
            return null;
        }

        foreach (var property in Properties.GetOrAdd(type, Readable))
        {
            var name = char.ToLowerInvariant(property.Name[0]) + property.Name[1..];
            if (Check(property.GetValue(value), path.Length == 0 ? name : $"{path}.{name}", depth + 1) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>Properties that can carry client text: strings, collections and nested request records.</summary>
    private static PropertyInfo[] Readable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.CanRead
                && (p.PropertyType == typeof(string)
                    || (typeof(IEnumerable).IsAssignableFrom(p.PropertyType) && p.PropertyType != typeof(string))
                    || (p.PropertyType.IsClass && p.PropertyType.Namespace?.StartsWith("Groundwork", StringComparison.Ordinal) == true)))
            .ToArray();
}
