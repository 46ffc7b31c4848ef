using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Groundwork.Tests.Infrastructure;

/// <summary>A GraphQL response as the tests read it: status, body, and the first error's code.</summary>
public sealed record GraphQLResponse(int Status, JsonObject Body, HttpResponseMessage Http)
{
    public JsonNode? Data => Body["data"];

    public JsonArray Errors => Body["errors"]?.AsArray() ?? [];

    public string? Code => Errors.Count > 0 ? Errors[0]!["extensions"]!["code"]!.GetValue<string>() : null;

    /// <summary>Asserts success (200, no errors) and returns <c>data</c>.</summary>
    public JsonNode AssertData()
    {
        Assert.True(Status == 200 && Errors.Count == 0, $"Expected data, got {Status}: {Body.ToJsonString()}");
        return Data!;
    }

    /// <summary>Asserts one error with <paramref name="code"/>, its request id, and nothing internal in the text.</summary>
    public JsonObject AssertError(string code, int status = 200)
    {
        var text = Body.ToJsonString();
        Assert.True(Status == status, $"Expected {status} {code}, got {Status}: {text}");
        Assert.True(Code == code, $"Expected {code}: {text}");
        var error = Errors[0]!.AsObject();
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(Http.Headers.GetValues("X-Request-Id").Single(), error["extensions"]!["requestId"]!.GetValue<string>());
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        return error;
    }
}

public static class GraphQLClient
{
    public const string ResponseMediaType = "application/graphql-response+json";

    public static async Task<GraphQLResponse> GraphQLAsync(this HttpClient client, string query, object? variables = null, string accept = ResponseMediaType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = JsonContent.Create(new { query, variables }) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        return await ReadAsync(await client.SendAsync(request));
    }

    public static async Task<GraphQLResponse> GraphQLGetAsync(this HttpClient client, string query, string accept = ResponseMediaType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/graphql?query=" + Uri.EscapeDataString(query));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        return await ReadAsync(await client.SendAsync(request));
    }

    private static async Task<GraphQLResponse> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return new GraphQLResponse((int)response.StatusCode, JsonNode.Parse(text)!.AsObject(), response);
    }
}
