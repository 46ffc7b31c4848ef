using System.Text.Json;
using System.Text.Json.Serialization;

namespace Groundwork.Platform.Http;

public static class Json
{
    /// <summary>
    /// The wire format: camelCase, enums as their members' camelCase names (one member, never a list of them), unknown and duplicate properties refused (no silent
    /// mass assignment), nesting capped at 32 levels.
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DictionaryKeyPolicy = JsonNamingPolicy.CamelCase;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.MaxDepth = 32;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.AllowTrailingCommas = false;
        options.ReadCommentHandling = JsonCommentHandling.Disallow;
        // {"title": "a", "title": "b"} is refused, not read as "b": a proxy or WAF in front that reads the first would
        // check one value while we act on another.
        options.AllowDuplicateProperties = false;
        // JSON for API clients (served as application/json with nosniff), not for embedding in HTML: '<', '&', quotes
        // and non-ASCII text go out as themselves, not as six-byte \uXXXX escapes that multiply a response's size.
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.Converters.Add(new WireEnums.Converter());
        options.Converters.Add(new UtcDateTimeConverter());
    }

    /// <summary>RFC 3339 UTC with millisecond precision and a 'Z': the one timestamp format of every transport.</summary>
    public static string FormatTimestamp(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>The same reading rules for a body parsed as a document (GraphQL requests and socket messages).</summary>
    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        return options;
    }

    /// <summary>RFC 3339 UTC with millisecond precision and a 'Z', whatever the provider returned.</summary>
    private sealed class UtcDateTimeConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset().UtcDateTime;

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
        {
            ArgumentNullException.ThrowIfNull(writer);
            writer.WriteStringValue(FormatTimestamp(value));
        }
    }
}
