using System.Text.Json.Nodes;
using Groundwork.Platform.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// Enums are listed by their wire names. The document generator only recognises the framework's own string-enum
/// converter, and ours (<see cref="WireEnums.Converter"/>, which refuses "a, b" lists) would otherwise be described
/// as any value.
/// </summary>
internal sealed class OpenApiEnumNames : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        if (type.IsEnum)
        {
            schema.Enum = [.. WireEnums.NamesOf(type).Select(name => (JsonNode)JsonValue.Create(name))];
        }

        return Task.CompletedTask;
    }
}
