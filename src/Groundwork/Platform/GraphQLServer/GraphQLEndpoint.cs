using System.Text.Json;
using GraphQL;
using GraphQLParser.AST;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.Net.Http.Headers;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// GraphQL over HTTP (the GraphQL-over-HTTP draft, checked by the graphql-http audits in ./test.sh):
/// <c>POST /graphql</c> with a JSON body, <c>GET /graphql</c> for queries only. Answers in
/// <c>application/graphql-response+json</c> when the client accepts it (400 for documents that cannot run),
/// else in <c>application/json</c> (200 with <c>errors</c>). Requests the transport cannot even read get 4xx.
/// </summary>
public static class GraphQLEndpoint
{
    public const string Path = "/graphql";
    private const string GraphQLResponse = "application/graphql-response+json";
    private const string Json = "application/json";

    public static IEndpointConventionBuilder MapGraphQL(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Every field decides its own authorization in the operation pipeline; anonymous callers reach public ones.
        return app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Post], HandleAsync)
            .AllowAnonymous()
            .WithTags("GraphQL")
            .ExcludeFromDescription();
    }

    private sealed record GraphQLHttpRequest(string Query, string? OperationName, Inputs? Variables, Inputs? Extensions);

    private static async Task HandleAsync(HttpContext http)
    {
        if (http.WebSockets.IsWebSocketRequest)
        {
            await GraphQLWebSocket.AcceptAsync(http);
            return;
        }

        var execution = http.RequestServices.GetRequiredService<GraphQLExecution>();
        var mediaType = ResponseMediaType(http.Request);
        var strict = mediaType == GraphQLResponse;

        var (request, problem) = HttpMethods.IsGet(http.Request.Method)
            ? ReadGet(http.Request, execution)
            : await ReadPostAsync(http.Request, execution);
        if (problem is not null)
        {
            await WriteErrorAsync(http, mediaType, problem.Value.Status, problem.Value.Error);
            return;
        }

        if (request!.Query.Length > GraphQLLimits.MaxDocumentLength)
        {
            await WriteErrorAsync(http, mediaType, strict ? 400 : 200,
                Error.Validation("query", $"The document exceeds {GraphQLLimits.MaxDocumentLength} characters"));
            return;
        }

        ParsedDocument document;
        try
        {
            document = execution.ParseOrReuse(request.Query);
        }
        catch (GraphQLDocumentRefusedException e)
        {
            // Syntax errors, documents nested past the parser's depth limit and documents that select too much: the
            // client's fault, answered here (the message names a position or a limit, never the document).
            await WriteErrorAsync(http, mediaType, strict ? 400 : 200, Error.Validation("query", e.Message));
            return;
        }

        var selected = SelectedOperation(document.Document, request.OperationName);
        if (selected?.Operation == OperationType.Subscription)
        {
            await WriteErrorAsync(http, mediaType, strict ? 400 : 200,
                Error.Validation("query", $"Subscriptions are served over WebSocket ({GraphQLWebSocket.SubProtocol}) at {Path}, not over HTTP"));
            return;
        }

        // Each root mutation field is a call of its own: aliases must not turn one rate-limit token into fifteen
        // account creations (the request itself already took one token in the default-limit middleware).
        if (selected is { Operation: OperationType.Mutation } && RootFieldCount(selected, document.Document) is > 1 and var fields)
        {
            var settings = http.RequestServices.GetRequiredService<Configuration.GroundworkSettings>();
            var decision = await http.RequestServices.GetRequiredService<RateLimiting.RateLimiter>()
                .TryAcquireAsync("default", http.ToCaller().PrincipalKey, settings.RateLimits.Default, fields - 1);
            if (!decision.Allowed)
            {
                await WriteErrorAsync(http, mediaType, StatusCodes.Status429TooManyRequests, Error.RateLimited(decision));
                return;
            }

            // The headers say what is left after every field's token, not only the request's.
            RateLimiting.RateLimitHeaders.Write(http.Response, decision);
        }

        if (HttpMethods.IsGet(http.Request.Method) && selected is { Operation: not OperationType.Query })
        {
            http.Response.Headers.Allow = "POST";
            await WriteErrorAsync(http, mediaType, StatusCodes.Status405MethodNotAllowed,
                new Error(ErrorCode.MethodNotAllowed, "Mutations and subscriptions are not allowed over GET; use POST"));
            return;
        }

        // The pipeline's rule for a credential that did not authenticate (refused, not downgraded to anonymous),
        // applied once to the whole document: no GraphQL operation is a sign-in that must tolerate a stale token.
        if (http.ToCaller().CredentialRejected)
        {
            await WriteErrorAsync(http, mediaType, StatusCodes.Status401Unauthorized, Error.Unauthenticated("The credential is invalid or expired"));
            return;
        }

        var result = await execution.ExecuteAsync(document, request.OperationName, request.Variables, request.Extensions,
            new GraphQLRequestContext(http.ToCaller(),
                http.Request.Headers.TryGetValue(GraphQLRequestContext.IdempotencyKeyHeader, out var key) ? key.ToString() : null), http.RequestServices, http.RequestAborted);
        foreach (var error in result.Errors ?? [])
        {
            error.Data[GraphQLErrors.RequestIdKey] = http.TraceIdentifier;
        }

        // A document that could not run (syntax, validation, limits, variables) is the client's fault: 400 for
        // clients that understand graphql-response+json; legacy application/json clients always get 200.
        http.Response.StatusCode = !result.Executed && strict ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK;
        http.Response.ContentType = $"{mediaType}; charset=utf-8";
        await execution.Serializer.WriteAsync(http.Response.Body, result, http.RequestAborted);
    }

    private static string ResponseMediaType(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted) || accepted.Count == 0)
        {
            return Json;
        }

        foreach (var media in accepted.OrderByDescending(a => a.Quality ?? 1))
        {
            if (media.MediaType.Equals(GraphQLResponse, StringComparison.OrdinalIgnoreCase))
            {
                return GraphQLResponse;
            }

            if (media.MediaType.Equals(Json, StringComparison.OrdinalIgnoreCase) || media.MatchesAllTypes || media.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase))
            {
                return Json;
            }
        }

        return Json;
    }

    private static (GraphQLHttpRequest?, (int Status, Error Error)?) ReadGet(HttpRequest http, GraphQLExecution execution)
    {
        var query = http.Query["query"].ToString();
        if (query.Length == 0)
        {
            return (null, (400, Error.Validation("query", "A query is required")));
        }

        try
        {
            return (new GraphQLHttpRequest(
                query,
                http.Query["operationName"].ToString() is { Length: > 0 } name ? name : null,
                ParseJsonMap(http.Query["variables"].ToString(), execution),
                ParseJsonMap(http.Query["extensions"].ToString(), execution)), null);
        }
        catch (JsonException)
        {
            return (null, (400, Error.Validation("variables", "variables and extensions must be JSON objects")));
        }
    }

    internal static Inputs? ParseJsonMap(string raw, GraphQLExecution execution)
    {
        if (raw.Length == 0)
        {
            return null;
        }

        using var json = JsonDocument.Parse(raw, Http.Json.DocumentOptions);
        if (HasOversizedNumber(json.RootElement))
        {
            throw new JsonException("Oversized number");
        }

        return json.RootElement.ValueKind switch
        {
            JsonValueKind.Object => execution.Serializer.ReadNode<Inputs>(json.RootElement),
            JsonValueKind.Null => null,
            _ => throw new JsonException("Not an object"),
        };
    }

    private static async Task<(GraphQLHttpRequest?, (int Status, Error Error)?)> ReadPostAsync(HttpRequest http, GraphQLExecution execution)
    {
        if (!MediaTypeHeaderValue.TryParse(http.ContentType, out var contentType)
            || !contentType.MediaType.Equals(Json, StringComparison.OrdinalIgnoreCase))
        {
            return (null, (415, new Error(ErrorCode.UnsupportedMediaType, "Send the request as application/json")));
        }

        if (contentType.Charset.HasValue && !contentType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return (null, (415, new Error(ErrorCode.UnsupportedMediaType, "Only the utf-8 charset is supported")));
        }

        JsonDocument json;
        try
        {
            json = await JsonDocument.ParseAsync(http.Body, Http.Json.DocumentOptions, http.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return (null, (400, Error.Validation("body", "The body is not valid JSON")));
        }

        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, (400, Error.Validation("body", "The body must be a JSON object")));
            }

            var details = new List<FieldError>();
            string? query = null, operationName = null;
            Inputs? variables = null, extensions = null;
            foreach (var property in root.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "query" when value.ValueKind == JsonValueKind.String && TryGetText(value, out var text):
                        query = text;
                        break;
                    case "operationName" when value.ValueKind is JsonValueKind.String or JsonValueKind.Null && TryGetText(value, out var name):
                        operationName = name;
                        break;
                    case "variables" or "extensions" when HasOversizedNumber(value):
                        details.Add(new FieldError(property.Name, $"Numbers may have at most {MaxNumberLength} characters"));
                        break;
                    case "variables" when value.ValueKind is JsonValueKind.Object or JsonValueKind.Null:
                        variables = ReadInputs(property, execution, details);
                        break;
                    case "extensions" when value.ValueKind is JsonValueKind.Object or JsonValueKind.Null:
                        extensions = ReadInputs(property, execution, details);
                        break;
                    case "query" or "operationName":
                        details.Add(new FieldError(property.Name, "Must be a string of valid Unicode text"));
                        break;
                    case "variables" or "extensions":
                        details.Add(new FieldError(property.Name, "Must be an object"));
                        break;
                    default:
                        // The draft lets clients send more (documentId, for persisted queries); ignore what we do not use.
                        break;
                }
            }

            if (query is null && details.All(d => d.Field != "query"))
            {
                details.Add(new FieldError("query", "A query is required"));
            }

            return details.Count > 0
                ? (null, (400, Error.Validation(details)))
                : (new GraphQLHttpRequest(query!, operationName, variables, extensions), null);
        }
    }

    /// <summary>
    /// <c>variables</c> or <c>extensions</c> as GraphQL.NET's inputs; a string in them that .NET cannot hold (an
    /// unpaired surrogate) is a detail naming the member, answered in GraphQL's shape like the rest of the body's.
    /// </summary>
    private static Inputs? ReadInputs(JsonProperty property, GraphQLExecution execution, List<FieldError> details)
    {
        if (property.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        try
        {
            return execution.Serializer.ReadNode<Inputs>(property.Value);
        }
        catch (JsonException)
        {
            details.Add(new FieldError(property.Name, "Must be an object of valid Unicode text (no unpaired surrogates)"));
            return null;
        }
    }

    /// <summary>Longer than any Int, Float or ID a schema here accepts; a million-digit number costs a BigInteger parse.</summary>
    private const int MaxNumberLength = 50;

    /// <summary>One linear walk over variables/extensions, before GraphQL.NET turns numbers into (Big)integers.</summary>
    private static bool HasOversizedNumber(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => element.GetRawText().Length > MaxNumberLength,
        JsonValueKind.Object => element.EnumerateObject().Any(p => HasOversizedNumber(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Any(HasOversizedNumber),
        _ => false,
    };

    /// <summary>A JSON string as .NET text; false for strings with unpaired surrogates, which .NET cannot hold.</summary>
    private static bool TryGetText(JsonElement value, out string? text)
    {
        try
        {
            text = value.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
    }

    /// <summary>Fields at the operation's root, through inline fragments and fragment spreads (cycles are cut).</summary>
    internal static int RootFieldCount(GraphQLOperationDefinition operation, GraphQLDocument document)
    {
        var fragments = document.Definitions.OfType<GraphQLFragmentDefinition>().ToList();
        int Count(GraphQLSelectionSet? set, int depth) => depth > 3 || set is null ? 0 : set.Selections.Sum(s => s switch
        {
            GraphQLField => 1,
            GraphQLInlineFragment inline => Count(inline.SelectionSet, depth + 1),
            GraphQLFragmentSpread spread => Count(fragments.FirstOrDefault(f => f.FragmentName.Name.Value == spread.FragmentName.Name.Value)?.SelectionSet, depth + 1),
            _ => 0,
        });
        return Count(operation.SelectionSet, 0);
    }

    /// <summary>
    /// The operation GraphQL.NET will run: an empty name means no name there too, so it must here, or a mutation's
    /// extra root fields and the subscriptions-only-over-WebSocket rule would be skipped for <c>"operationName": ""</c>.
    /// </summary>
    internal static GraphQLOperationDefinition? SelectedOperation(GraphQLDocument document, string? operationName)
    {
        var operations = document.Definitions.OfType<GraphQLOperationDefinition>().ToList();
        return string.IsNullOrEmpty(operationName)
            ? operations.Count == 1 ? operations[0] : null
            : operations.FirstOrDefault(o => o.Name?.Value == operationName);
    }

    /// <summary>A request refused before GraphQL runs (rate limit), answered in GraphQL's response shape.</summary>
    public static Task WriteRejectionAsync(HttpContext http, Error error)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(error);
        return WriteErrorAsync(http, ResponseMediaType(http.Request), error.Code.HttpStatus(), error);
    }

    private static async Task WriteErrorAsync(HttpContext http, string mediaType, int status, Error error)
    {
        RestErrors.WriteHeaders(http.Response, error);
        var execution = http.RequestServices.GetRequiredService<GraphQLExecution>();
        var executionError = new OperationException(error);
        executionError.Data[GraphQLErrors.RequestIdKey] = http.TraceIdentifier;
        http.Response.StatusCode = status;
        http.Response.ContentType = $"{mediaType}; charset=utf-8";
        await execution.Serializer.WriteAsync(http.Response.Body, new ExecutionResult { Errors = [executionError] }, http.RequestAborted);
    }
}
