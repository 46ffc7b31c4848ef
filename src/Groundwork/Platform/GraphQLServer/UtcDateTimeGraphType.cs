using GraphQL.Types;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// The schema's <c>DateTime</c>: the built-in scalar's name and parsing, but written as REST and gRPC write
/// timestamps (UTC, milliseconds, 'Z'), so one value reads the same on every transport.
/// </summary>
public sealed class UtcDateTimeGraphType : DateTimeGraphType
{
    public UtcDateTimeGraphType() => Name = "DateTime";

    public override object? Serialize(object? value) =>
        value is DateTime d ? Http.Json.FormatTimestamp(d) : base.Serialize(value);
}
