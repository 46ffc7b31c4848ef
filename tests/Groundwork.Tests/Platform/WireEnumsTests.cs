using System.Text.Json;
using Groundwork.Features.Orders;
using Groundwork.Platform.Http;

namespace Groundwork.Tests.Platform;

/// <summary>An enum on the wire is one member's camelCase name, as a value and as a dictionary key, and nothing else.</summary>
public sealed class WireEnumsTests
{
    [Fact]
    public void Values_and_keys_round_trip_and_a_list_of_names_is_refused()
    {
        var counts = new Dictionary<OrderStatus, int> { [OrderStatus.Pending] = 2, [OrderStatus.Refunded] = 1 };
        var json = JsonSerializer.Serialize(counts, Json.Options);
        Assert.Equal("""{"pending":2,"refunded":1}""", json);
        Assert.Equal(counts, JsonSerializer.Deserialize<Dictionary<OrderStatus, int>>(json, Json.Options));
        Assert.Equal(OrderStatus.Paid, JsonSerializer.Deserialize<OrderStatus>("\"Paid\"", Json.Options));

        // Enum.TryParse and the framework's converter read these as Paid | Cancelled, which is Refunded's value.
        foreach (var listed in new[] { "\"paid,cancelled\"", "\"paid, cancelled\"", "\" paid\"", "1", "\"1\"" })
        {
            Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<OrderStatus>(listed, Json.Options));
        }

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Dictionary<OrderStatus, int>>("""{"paid,cancelled":1}""", Json.Options));
        Assert.False(WireEnums.TryParse<OrderStatus>("paid,cancelled", out _));
        Assert.True(WireEnums.TryParse<OrderStatus>("REFUNDED", out var refunded));
        Assert.Equal(OrderStatus.Refunded, refunded);
    }
}
