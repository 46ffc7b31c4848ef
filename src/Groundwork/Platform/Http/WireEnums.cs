using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Groundwork.Platform.Http;

/// <summary>
/// Enums on the wire: each value is its member's camelCase name, read without regard to case, and nothing else.
/// <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/> and <see cref="JsonStringEnumConverter"/> also read
/// "paid, cancelled" as the two members OR-ed together, which for enums that are not flags lands on a third member
/// (Paid | Cancelled is Refunded): a filter or a role would silently mean something no client wrote.
/// </summary>
public static class WireEnums
{
    public static bool TryParse<TEnum>(string? value, out TEnum result)
        where TEnum : struct, Enum
    {
        if (value is not null && Names<TEnum>.ByName.TryGetValue(value, out result))
        {
            return true;
        }

        result = default;
        return false;
    }

    public static string Name<TEnum>(TEnum value)
        where TEnum : struct, Enum =>
        Names<TEnum>.ByValue.TryGetValue(value, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(value));

    /// <summary>Every member's wire name, in the order of their values (for the OpenAPI document).</summary>
    public static IEnumerable<string> NamesOf(Type enumType)
    {
        ArgumentNullException.ThrowIfNull(enumType);
        return Enum.GetValuesAsUnderlyingType(enumType).Cast<object>().Distinct()
            .Select(v => WireName(Enum.GetName(enumType, v)!));
    }

    /// <summary>The one naming rule: a member's name in camelCase.</summary>
    private static string WireName(string memberName) => JsonNamingPolicy.CamelCase.ConvertName(memberName);

    private static class Names<TEnum>
        where TEnum : struct, Enum
    {
        public static readonly FrozenDictionary<TEnum, string> ByValue =
            Enum.GetValues<TEnum>().Distinct().ToFrozenDictionary(v => v, v => WireName(v.ToString()));

        public static readonly FrozenDictionary<string, TEnum> ByName =
            ByValue.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The JSON side of <see cref="TryParse{TEnum}"/>. A value that is no member's name fails as
    /// <see cref="JsonException"/> without a message, so the serializer names the property in its place.
    /// </summary>
    public sealed class Converter : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(Of<>).MakeGenericType(typeToConvert))!;

        private sealed class Of<TEnum> : JsonConverter<TEnum>
            where TEnum : struct, Enum
        {
            public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
                reader.TokenType == JsonTokenType.String && TryParse<TEnum>(reader.GetString(), out var value)
                    ? value
                    : throw new JsonException();

            public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteStringValue(Name(value));
            }

            public override TEnum ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
                TryParse<TEnum>(reader.GetString(), out var value) ? value : throw new JsonException();

            public override void WriteAsPropertyName(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WritePropertyName(Name(value));
            }
        }
    }
}
