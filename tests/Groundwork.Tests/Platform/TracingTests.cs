using System.Diagnostics;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Hosting;
using Groundwork.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using static Groundwork.Tests.Infrastructure.MoneyHelpers;

namespace Groundwork.Tests.Platform;

/// <summary>PostgreSQL with the service's trace sources wired to an in-memory exporter instead of OTLP.</summary>
public sealed class TracedPostgresApp(PostgresServer server) : GroundworkApp
{
    public LockedCollection<Activity> Exported { get; } = new();

    public override Provider Provider => Provider.Postgres;

    protected override Task<string> CreateDatabaseAsync(string folder) => server.CreateDatabaseAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddOpenTelemetry()
            .WithTracing(tracing => Observability.ConfigureTracing(tracing, sampleRatio: 1).AddInMemoryExporter(Exported)));
    }

    /// <summary>The spans exported so far.</summary>
    public List<Activity> Spans() => Exported.Snapshot();
}

/// <summary>The exporter appends from the threads that end spans while the test reads.</summary>
public sealed class LockedCollection<T> : System.Collections.ObjectModel.Collection<T>
{
    private readonly Lock _gate = new();

    public List<T> Snapshot()
    {
        lock (_gate)
        {
            return [.. Items];
        }
    }

    protected override void InsertItem(int index, T item)
    {
        lock (_gate)
        {
            base.InsertItem(index, item);
        }
    }
}

public sealed class TracingTests(TracedPostgresApp app) : IClassFixture<TracedPostgresApp>
{
    [Fact]
    public async Task A_transfer_is_one_trace_from_the_HTTP_request_through_the_operation_to_PostgreSQL()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var alice = await app.ActorAsync();
        var bob = await app.ActorAsync();
        var from = await alice.OpenAccountAsync();
        var to = await bob.OpenAccountAsync();
        await admin.DepositAsync(from, 1_000);
        // A first transfer between the two: the database confirms both accounts' owners, kinds and currencies, which
        // this node then remembers (AccountFacts). A node that had not would add one SELECT on the transaction's connection.
        await (await alice.Client().SendAsync(Post("/api/v1/transfers", new { fromAccountId = from, toAccountId = to, amount = 1 }, Guid.NewGuid().ToString()),
            TestContext.Current.CancellationToken)).AssertStatus(201);

        // The caller's trace context is continued (W3C traceparent), so the client's trace and ours are one.
        var traceId = ActivityTraceId.CreateRandom();
        var request = Post("/api/v1/transfers", new { fromAccountId = from, toAccountId = to, amount = 250 }, Guid.NewGuid().ToString());
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        var response = await alice.Client().SendAsync(request, TestContext.Current.CancellationToken);
        await response.AssertStatus(201);
        Assert.Equal(749, await app.BalanceAsync(from));

        // The server span ends after the response is written: wait for it (not for a time).
        var spans = await Eventually(() => app.Spans().Where(s => s.TraceId == traceId).ToList(),
            list => list.Any(s => s.Kind == ActivityKind.Server));
        var described = string.Join("\n", spans.Select(s => $"{s.Kind} {s.Source.Name} {s.DisplayName} {s.SpanId} parent={s.ParentSpanId}"));
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.True(server.DisplayName == "POST /api/v1/transfers", described);
        Assert.Equal(201, server.GetTagItem("http.response.status_code"));

        var operation = spans.SingleOrDefault(s => s.Source.Name == "Groundwork" && s.DisplayName == "Transfer");
        Assert.True(operation is not null, described);
        Assert.Equal(server.SpanId, operation.ParentSpanId);

        // The database work is inside the operation; the money moves last, at the commit point: the balance updates
        // under row locks, then the ledger and outbox rows, in one command.
        var database = spans.Where(s => s.Source.Name == "Npgsql").OrderBy(s => s.StartTimeUtc).ToList();
        var statements = database.Select(s => (s.GetTagItem("db.query.text") ?? s.GetTagItem("db.statement"))?.ToString() ?? "").ToList();
        Assert.NotEmpty(database);
        Assert.All(database, s => Assert.True(IsWithin(s, operation, spans), $"{s.DisplayName} is not under the operation"));
        var money = statements[^1];
        Assert.StartsWith("UPDATE accounts SET balance", money.TrimStart(), StringComparison.Ordinal);
        Assert.Contains("INSERT INTO ledger_transactions", money, StringComparison.Ordinal);
        Assert.Contains("INSERT INTO ledger_entries", money, StringComparison.Ordinal);
        Assert.Contains("INSERT INTO outbox", money, StringComparison.Ordinal);

        // Two round trips while the transaction is open: the idempotency claim, then the money's command, which also
        // carries the idempotency record's response (nothing is left for EF to save, so no save and no savepoint);
        // the commit follows. The account rows are locked only for that command and the commit. The accounts' owners
        // and currencies came from this node's memory.
        Assert.True(statements.Count == 2, string.Join("\n---\n", statements));
        Assert.Contains("INSERT INTO idempotency_records", statements[0], StringComparison.Ordinal);
        Assert.Contains("UPDATE idempotency_records SET response", money, StringComparison.Ordinal);
        Assert.True(money.IndexOf("UPDATE idempotency_records", StringComparison.Ordinal) > money.LastIndexOf("RETURNING", StringComparison.Ordinal),
            "the response rides after the statements whose results are read");
        Assert.DoesNotContain(statements, q => q.Contains("SAVEPOINT", StringComparison.Ordinal));
        Assert.DoesNotContain(statements, q => q.StartsWith("SELECT", StringComparison.Ordinal) && q.Contains("FROM accounts", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_call_marks_its_operation_span_with_the_error_code()
    {
        var alice = await app.ActorAsync();
        var traceId = ActivityTraceId.CreateRandom();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/users");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        await (await alice.Client().SendAsync(request, TestContext.Current.CancellationToken)).AssertError(403, "AUTHORIZATION_ERROR");

        var spans = await Eventually(() => app.Spans().Where(s => s.TraceId == traceId).ToList(),
            list => list.Any(s => s.Kind == ActivityKind.Server));
        var operation = spans.Single(s => s.Source.Name == "Groundwork");
        Assert.Equal("AUTHORIZATION_ERROR", operation.GetTagItem("groundwork.error.code"));
    }

    private static bool IsWithin(Activity span, Activity ancestor, List<Activity> spans)
    {
        for (var parent = span.ParentSpanId; parent != default;)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }

            parent = spans.FirstOrDefault(s => s.SpanId == parent)?.ParentSpanId ?? default;
        }

        return false;
    }

    /// <summary>Waits for the exporter (spans end after the response is written); fails plainly if it never gets there.</summary>
    private static async Task<T> Eventually<T>(Func<T> read, Func<T, bool> done)
    {
        for (var i = 0; i < 3000; i++)
        {
            var value = read();
            if (done(value))
            {
                return value;
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.Fail("the request's server span was never exported");
        return read();
    }
}
