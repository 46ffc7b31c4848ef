using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;

using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Groundwork.Tests.Platform;

/// <summary>
/// Schema-guided fuzzing of every REST operation the OpenAPI document declares: requests are generated from the
/// document (path parameters, bodies from the requestBody schema) and then broken on purpose (wrong types, extremes,
/// hostile unicode, malformed JSON, odd headers and content types), sent as anonymous, user, admin, API key and bad
/// credentials. Whatever comes in, the service answers with a 2xx/3xx or a 4xx in the error envelope, never a 5xx,
/// and logs no exception. A fixed seed keeps a failure reproducible; bench/fuzz.sh runs it longer with random seeds.
/// </summary>
public abstract class FuzzTests(GroundworkApp app)
{
    public const string RequestsVariable = "GROUNDWORK_FUZZ_REQUESTS";
    public const string SeedVariable = "GROUNDWORK_FUZZ_SEED";
    public const string SummaryVariable = "GROUNDWORK_FUZZ_SUMMARY";
    private const int DefaultRequests = 1_500;
    private const ulong DefaultSeed = 20_261_129;

    // Fuzzed requests delete users, revoke sessions and cancel orders; fresh objects every so often (and as soon as
    // a signed-in caller is refused) keep later requests reaching the code behind authentication and lookups.
    private const int RequestsPerWorld = 100;

    [Fact]
    public async Task Every_operation_answers_garbage_with_a_4xx_envelope_and_logs_no_exception()
    {
        var requests = ReadSetting(RequestsVariable, DefaultRequests);
        var seed = ReadSetting(SeedVariable, DefaultSeed);
        var capture = new ErrorLogCapture();
        // A host of our own (same database, keys and settings) whose log entries we can see; the fixture's host
        // serves the set-up requests (actors, objects), whose logs are not part of the verdict.
        await using var fuzzed = app.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(capture)));
        using var client = fuzzed.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

        var document = JsonNode.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!.AsObject();
        var operations = FuzzOperation.All(document);
        Assert.True(operations.Count >= 35, $"Expected the whole REST surface in /openapi/v1.json, found {operations.Count} operations");
        var generators = operations.Select(op => new RequestGenerator(document, op).Requests).ToArray();

        var pcg = new PCG(1, seed);
        var failures = new List<Failure>();
        var statuses = new SortedDictionary<string, SortedDictionary<int, int>>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        World? world = null;
        var worlds = 0;
        // Entries logged while the host started (EF Core's failed __EFMigrationsHistory probe on a fresh database
        // among them) are not the fuzzer's doing.
        capture.Arm();
        // The capture must see what the app logs, or a clean verdict would mean nothing.
        fuzzed.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Groundwork.Fuzz").LogError(new InvalidOperationException("probe"), "Probe");
        Assert.Single(capture.Drain());
        for (var i = 0; i < requests; i++)
        {
            if (world is null || i % RequestsPerWorld == 0)
            {
                world = await World.CreateAsync(app);
                worlds++;
            }

            // Round-robin over the operations so each gets its share whatever the count; the seed decides the rest.
            var operation = operations[i % operations.Count];
            var request = generators[i % operations.Count].Generate(pcg, null, out _);
            capture.CurrentRequest = i;
            var outcome = await SendAsync(client, request, world!);
            var problems = outcome.Problems.Concat(capture.Drain()).ToList();
            if (outcome.Status is { } status)
            {
                var counts = statuses.TryGetValue(operation.Name, out var c) ? c : statuses[operation.Name] = new SortedDictionary<int, int>();
                counts[status] = counts.GetValueOrDefault(status) + 1;
            }

            if (problems.Count > 0)
            {
                failures.Add(new Failure(i, operation, outcome, problems));
            }

            // A signed-in caller refused without a garbage X-API-Key beside its credentials: the fuzzer revoked the
            // session or key, or deleted the user. Start over with fresh ones.
            if (outcome.Status == 401 && request.Caller is ("user" or "admin" or "apikey") && request.Headers.All(h => h.Name != "X-API-Key"))
            {
                world = null;
            }
        }

        capture.Disarm();
        var late = capture.Drain();
        if (late.Count > 0)
        {
            failures.Add(new Failure(requests, operations[0], new Outcome("(after the last request)", null, "", []), late));
        }

        var summary = new StringBuilder();
        summary.AppendLine(CultureInfo.InvariantCulture, $"{app.Provider}: {requests} requests, seed {seed}, {operations.Count} operations, {failures.Count} failed, {worlds} sets of objects, {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var (name, counts) in statuses)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"  {name}: {string.Join(' ', counts.Select(kv => $"{kv.Key}x{kv.Value}"))}");
        }

        TestContext.Current.TestOutputHelper?.Write(summary.ToString());
        // The test runner shows a passing test's output nowhere; bench/fuzz.sh asks for it in a file.
        if (Environment.GetEnvironmentVariable(SummaryVariable) is { Length: > 0 } summaryFile)
        {
            await File.AppendAllTextAsync(summaryFile, summary.ToString());
        }

        Assert.True(failures.Count == 0, Report(failures, requests, seed));

        // Nothing the fuzzer sent moved money that the ledger cannot account for.
        await app.AssertLedgerOkAsync(await app.ActorAsync(Role.Admin));
    }

    private static T ReadSetting<T>(string variable, T fallback)
        where T : IParsable<T>
    {
        var text = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(text) ? fallback : T.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    private static async Task<Outcome> SendAsync(HttpClient client, FuzzRequest request, World world)
    {
        var url = world.Resolve(request.Path + (request.Query.Length > 0 ? "?" + request.Query : ""));
        var body = request.Body.Text is { } text ? Encoding.UTF8.GetBytes(world.Resolve(text)) : request.Body.Raw;
        var headers = request.Headers.Select(h => (h.Name, Value: world.Resolve(h.Value))).ToList();
        switch (request.Caller)
        {
            case "user":
                headers.Add(("Authorization", "Bearer " + world.User.AccessToken));
                break;
            case "admin":
                headers.Add(("Authorization", "Bearer " + world.Admin.AccessToken));
                break;
            case "apikey":
                headers.Add(("X-API-Key", world.ApiKeySecret));
                break;
            case "anonymous":
                break;
            default:
                headers.Add(("Authorization", request.Caller));
                break;
        }

        var description = Describe(request, url, headers, body);
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(url, UriKind.Relative));
        if (body is not null || request.Body.ContentType is not null)
        {
            message.Content = new ByteArrayContent(body ?? []);
            if (request.Body.ContentType is { } contentType)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        foreach (var (name, value) in headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new Outcome(description, null, "", ["no answer within 20 s"]);
        }
        catch (Exception e)
        {
            // The in-memory server rethrows whatever escaped the app's own handling, of any type: a crash, not a refusal.
            return new Outcome(description, null, "", [$"the request threw {e.GetType().FullName}: {FirstLines(e.ToString(), 6)}"]);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            // An event stream that opened is an answer; it would never end by itself.
            if (status == 200 && response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                return new Outcome(description, status, "", []);
            }

            var answer = await response.Content.ReadAsStringAsync(timeout.Token);
            var problems = new List<string>();
            if (status >= 500)
            {
                problems.Add($"status {status}");
            }

            // A HEAD answer carries no body to hold an envelope.
            if (status >= 400 && request.Method != "HEAD" && EnvelopeProblem(response, answer) is { } problem)
            {
                problems.Add(problem);
            }

            return new Outcome(description, status, answer, problems);
        }
    }

    /// <summary>Null when the body is the <c>{"error":{"code","message","details","requestId"}}</c> envelope.</summary>
    private static string? EnvelopeProblem(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return $"error answered as {response.Content.Headers.ContentType?.ToString() ?? "(no content type)"}";
        }

        JsonNode? error;
        try
        {
            error = JsonNode.Parse(text)?["error"];
        }
        catch (JsonException)
        {
            return "error body is not JSON";
        }

        if (error is not JsonObject envelope)
        {
            return "error body has no \"error\" object";
        }

        foreach (var field in new[] { "code", "message", "requestId" })
        {
            if (envelope[field] is not JsonValue value || value.GetValueKind() != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetValue<string>()))
            {
                return $"error envelope lacks a non-empty string \"{field}\"";
            }
        }

        if (envelope["details"] is not JsonArray)
        {
            return "error envelope lacks the \"details\" array";
        }

        var requestId = envelope["requestId"]!.GetValue<string>();
        if (!response.Headers.TryGetValues("X-Request-Id", out var echoed) || echoed.Single() != requestId)
        {
            return $"error requestId {requestId} differs from the X-Request-Id header";
        }

        // Stack frames have no business in an answer.
        return text.Contains("   at System.", StringComparison.Ordinal) || text.Contains("   at Groundwork.", StringComparison.Ordinal)
            ? "error body carries a stack trace"
            : null;
    }

    private static string Describe(FuzzRequest request, string url, List<(string Name, string Value)> headers, byte[]? body)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{request.Method} {Shorten(url, 400)} as {(request.Caller is "anonymous" or "user" or "admin" or "apikey" ? request.Caller : "bad credentials")}");
        foreach (var (name, value) in headers)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n    {name}: {Shorten(value, 200)}");
        }

        if (request.Body.ContentType is { } contentType)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n    Content-Type: {Shorten(contentType, 200)}");
        }

        if (body is not null)
        {
            var shown = request.Body.Text is null ? "hex " + Convert.ToHexString(body.AsSpan(0, Math.Min(body.Length, 300))) : Encoding.UTF8.GetString(body);
            text.Append(CultureInfo.InvariantCulture, $"\n    body ({body.Length} bytes): {Shorten(shown, 1_500)}");
        }

        return text.ToString();
    }

    /// <summary>Truncated, with control characters and lone surrogates made visible.</summary>
    private static string Shorten(string value, int max)
    {
        var cut = value.Length > max ? value[..max] : value;
        var visible = new StringBuilder(cut.Length);
        foreach (var c in cut)
        {
            visible.Append(char.IsControl(c) || char.IsSurrogate(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : c.ToString());
        }

        return value.Length > max ? visible + $"…(+{value.Length - max} chars)" : visible.ToString();
    }

    private static string FirstLines(string text, int lines) => string.Join("\n      ", text.Split('\n').Take(lines).Select(l => l.TrimEnd()));

    private static string Report(List<Failure> failures, int requests, ulong seed)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{failures.Count} of {requests} fuzzed requests failed (seed {seed}; reproduce with {SeedVariable}={seed} {RequestsVariable}={requests}).");
        // One group per cause (the logged exception's first line, else the first problem), whichever operations hit it.
        var groups = failures.GroupBy(f => $"{(f.Outcome.Status?.ToString(CultureInfo.InvariantCulture) ?? "no answer")}: {f.Cause}").Take(25);
        foreach (var group in groups)
        {
            var first = group.First();
            var operations = string.Join(", ", group.Select(f => f.Operation.Name).Distinct(StringComparer.Ordinal));
            text.Append(CultureInfo.InvariantCulture, $"\n\n[{group.Count()}x] {Shorten(group.Key, 300)}\n  operations: {operations}\n  first: request #{first.Index} of seed {seed}\n  {first.Outcome.Request}");
            text.Append(CultureInfo.InvariantCulture, $"\n  answer: {Shorten(first.Outcome.Body, 600)}");
            foreach (var problem in first.Problems)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n  problem: {problem}");
            }
        }

        return text.ToString();
    }

    private sealed record Failure(int Index, FuzzOperation Operation, Outcome Outcome, List<string> Problems)
    {
        public string Cause =>
            Problems.Where(p => p.StartsWith("logged", StringComparison.Ordinal)).Select(p => p.Split('\n')).FirstOrDefault(lines => lines.Length > 1)?[1].Trim()
            ?? Problems[0].Split('\n')[0];
    }

    private sealed record Outcome(string Request, int? Status, string Body, List<string> Problems);

    /// <summary>Real objects for path parameters and ids in bodies; requests name them by <c>@@token@@</c>.</summary>
    private sealed class World
    {
        private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);

        private World(Actor user, Actor admin, string apiKeySecret)
        {
            User = user;
            Admin = admin;
            ApiKeySecret = apiKeySecret;
        }

        public Actor User { get; }

        public Actor Admin { get; }

        public string ApiKeySecret { get; }

        public static async Task<World> CreateAsync(GroundworkApp app)
        {
            var user = await app.ActorAsync();
            var other = await app.ActorAsync();
            var admin = await app.ActorAsync(Role.Admin);
            var userClient = user.Client();
            var otherClient = other.Client();

            var post = await IdAsync(await userClient.PostAsJsonAsync("/api/v1/posts", new { title = "Fuzz target", content = "Body", published = true }));
            var draft = await IdAsync(await otherClient.PostAsJsonAsync("/api/v1/posts", new { title = "Fuzz draft", content = "Body", published = false }));
            var account = await user.OpenAccountAsync();
            var otherAccount = await other.OpenAccountAsync();
            await admin.DepositAsync(account, 1_000_000);
            var transfer = await IdAsync(await userClient.SendAsync(MoneyHelpers.Post(
                "/api/v1/transfers", new { fromAccountId = account, toAccountId = otherAccount, amount = 100, description = "fuzz" }, Guid.NewGuid().ToString())));
            var order = await IdAsync(await userClient.PostAsJsonAsync(
                $"/api/v1/users/{user.Id}/orders", new { currency = "EUR", items = new[] { new { sku = "SKU-1", name = "Widget", quantity = 2, unitPrice = 250 } } }));
            var key = await (await userClient.PostAsJsonAsync("/api/v1/api-keys", new { name = "fuzz", scopes = Scopes.All.ToArray() })).AssertStatus(201);
            var sessions = await (await userClient.GetAsync(new Uri("/api/v1/auth/sessions", UriKind.Relative))).AssertStatus(200);

            var world = new World(user, admin, key["data"]!["secret"]!.GetValue<string>());
            world._tokens["user"] = user.Id.ToString();
            world._tokens["other"] = other.Id.ToString();
            world._tokens["admin"] = admin.Id.ToString();
            world._tokens["post"] = post;
            world._tokens["draft"] = draft;
            world._tokens["account"] = account.ToString();
            world._tokens["otherAccount"] = otherAccount.ToString();
            world._tokens["transfer"] = transfer;
            world._tokens["order"] = order;
            world._tokens["apiKey"] = key["data"]!["id"]!.GetValue<string>();
            world._tokens["session"] = sessions["data"]!.AsArray()[0]!["id"]!.GetValue<string>();
            world._tokens["userEmail"] = user.Email;
            world._tokens["refresh"] = user.RefreshToken;
            return world;
        }

        private static async Task<string> IdAsync(HttpResponseMessage response) =>
            (await response.AssertStatus(201))["data"]!["id"]!.GetValue<string>();

        public string Resolve(string text)
        {
            if (!text.Contains("@@", StringComparison.Ordinal))
            {
                return text;
            }

            foreach (var (name, value) in _tokens)
            {
                text = text.Replace($"@@{name}@@", value, StringComparison.Ordinal);
            }

            var now = DateTime.UtcNow;
            return text
                .Replace("@@tomorrow@@", now.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("@@yesterday@@", now.AddDays(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }
    }

    /// <summary>Records Error-or-worse entries that carry an exception or report an unhandled one.</summary>
    private sealed class ErrorLogCapture : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _entries = new();
        private volatile bool _armed;

        public int CurrentRequest { get; set; }

        public void Arm() => _armed = true;

        public void Disarm() => _armed = false;

        public List<string> Drain()
        {
            var drained = new List<string>();
            while (_entries.TryDequeue(out var entry))
            {
                drained.Add(entry);
            }

            return drained;
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private void Record(string category, LogLevel level, string message, Exception? exception)
        {
            if (!_armed)
            {
                return;
            }

            var reported = exception is not null
                || category == "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware"
                || category.Contains("Unhandled", StringComparison.OrdinalIgnoreCase)
                || message.Contains("Unhandled", StringComparison.OrdinalIgnoreCase);
            if (reported)
            {
                _entries.Enqueue($"logged {level} [{category}] during request #{CurrentRequest}: {message}"
                    + (exception is null ? "" : "\n      " + FirstLines(exception.ToString(), 8)));
            }
        }

        private sealed class Logger(ErrorLogCapture capture, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    capture.Record(category, logLevel, formatter(state, exception), exception);
                }
            }
        }
    }
}

public sealed class FuzzTestsOnSqlite(SqliteApp app) : FuzzTests(app), IClassFixture<SqliteApp>;

public sealed class FuzzTestsOnPostgres(PostgresApp app) : FuzzTests(app), IClassFixture<PostgresApp>;

/// <summary>One operation of the OpenAPI document: method, path template, its parameters and request body schema.</summary>
internal sealed record FuzzOperation(string Method, string Path, IReadOnlyList<JsonObject> Parameters, JsonObject? BodySchema)
{
    public string Name => $"{Method} {Path}";

    public static List<FuzzOperation> All(JsonObject document) =>
    [
        .. from path in document["paths"]!.AsObject()
           from operation in path.Value!.AsObject()
           where operation.Key is "get" or "post" or "put" or "patch" or "delete"
           let parameters = (operation.Value!["parameters"]?.AsArray() ?? []).Select(p => p!.AsObject()).ToList()
           select new FuzzOperation(
               operation.Key.ToUpperInvariant(),
               path.Key,
               parameters,
               operation.Value!["requestBody"]?["content"]?["application/json"]?["schema"]?.AsObject()),
    ];
}

/// <summary>A generated request; <c>@@name@@</c> tokens stand for the real objects of the moment.</summary>
internal sealed record FuzzRequest(string Method, string Caller, string Path, string Query, FuzzBody Body, IReadOnlyList<(string Name, string Value)> Headers);

/// <summary>Text bodies are UTF-8 and may hold tokens; raw bodies are bytes that no string can carry (invalid UTF-8, UTF-16).</summary>
internal sealed record FuzzBody(string? Text, byte[]? Raw, string? ContentType);
