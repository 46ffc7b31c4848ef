using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// A published event as it travels: the public fields every consumer sees (<see cref="Json"/>) plus the audience
/// the streams filter on, which never leaves the server.
/// </summary>
public sealed record EventEnvelope(Guid Id, string Type, DateTime OccurredAt, Guid Subject, long Sequence, string Data, EventAudience Audience)
{
    private string? _json;

    /// <summary>The event as clients receive it (<c>id, type, occurredAt, subject, sequence, data</c>), rendered once per event however many streams send it.</summary>
    public string Json => _json ??= Render();

    public static EventEnvelope From(OutboxMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new EventEnvelope(
            message.Id, message.Type, message.OccurredAt, message.Subject,
            message.Sequence ?? throw new InvalidOperationException("An event is published only once it has a sequence"),
            message.Data, message.Audience);
    }

    private string Render()
    {
        var buffer = new ArrayBufferWriter<byte>(Data.Length + 200);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", Id);
            writer.WriteString("type", Type);
            writer.WriteString("occurredAt", Groundwork.Platform.Http.Json.FormatTimestamp(OccurredAt));
            writer.WriteString("subject", Subject);
            writer.WriteNumber("sequence", Sequence);
            writer.WritePropertyName("data");
            writer.WriteRawValue(Data, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
