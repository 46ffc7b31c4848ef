using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Groundwork.Platform.Messaging;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Groundwork.Tests.Events;

/// <summary>Two nodes on one PostgreSQL database and one private RabbitMQ, with the RabbitMQ broker configured.</summary>
public sealed class EventCluster(PostgresServer postgres) : IAsyncLifetime
{
    private readonly string _keys = Path.Combine(Path.GetTempPath(), "gw-keys-" + Guid.NewGuid().ToString("N")[..12]);

    public RabbitMqServer Rabbit { get; } = new();

    public GroundworkApp A { get; private set; } = null!;

    public GroundworkApp B { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Rabbit.InitializeAsync();
        var database = await postgres.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Groundwork:Messaging:Broker"] = "rabbitmq",
            ["Groundwork:Messaging:RabbitMq:Uri"] = Rabbit.Uri,
            // Shorter than the default, for the test of a broker that blocks its publishers; long enough for a batch
            // of 500 to be confirmed on a busy machine in the other tests.
            ["Groundwork:Messaging:PublishTimeout"] = "00:00:05",
        };
        A = new ClusterNode(Provider.Postgres, database, _keys, settings);
        await A.InitializeAsync();
        B = new ClusterNode(Provider.Postgres, database, _keys, settings);
        await B.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
        finally
        {
            await Rabbit.DisposeAsync();
            if (Directory.Exists(_keys))
            {
                Directory.Delete(_keys, recursive: true);
            }
        }
    }
}

/// <summary>An outside consumer of the exchange: a durable queue of its own bound to every event, recording what arrives.</summary>
internal sealed class ExchangeObserver : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private ExchangeObserver(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public ConcurrentQueue<(string Type, long Sequence, JsonObject Event, string? MessageId)> Received { get; } = new();

    public static async Task<ExchangeObserver> StartAsync(string uri)
    {
        var factory = new ConnectionFactory { Uri = new Uri(uri), AutomaticRecoveryEnabled = true, TopologyRecoveryEnabled = true, NetworkRecoveryInterval = TimeSpan.FromSeconds(1) };
        var connection = await factory.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        var queue = "observer-" + Guid.NewGuid().ToString("N");
        await channel.ExchangeDeclareAsync(RabbitMqConnection.Exchange, ExchangeType.Topic, durable: true, autoDelete: false);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, RabbitMqConnection.Exchange, "#");
        var observer = new ExchangeObserver(connection, channel);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var json = JsonNode.Parse(Encoding.UTF8.GetString(delivery.Body.Span))!.AsObject();
            observer.Received.Enqueue((delivery.RoutingKey, json["sequence"]!.GetValue<long>(), json, delivery.BasicProperties.MessageId));
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        return observer;
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.CloseAsync();
        _connection.Dispose();
    }
}

public sealed class RabbitMqEventsTests(EventCluster cluster) : IClassFixture<EventCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_stream_on_one_node_receives_what_another_node_commits()
    {
        var user = await cluster.A.ActorAsync();
        var onB = user with { App = cluster.B };
        await using var stream = await SseClient.OpenAsync(onB.Client(), "?types=user.updated");
        var fanOut = cluster.B.Service<RabbitMqFanOut>();
        var before = fanOut.Received;

        await (await user.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "Renamed on A" })).AssertStatus(200);

        var received = await stream.NextAsync();
        Assert.Equal(("user.updated", user.Id.ToString(), "Renamed on A"),
            (received.Type, received.Data["subject"]!.GetValue<string>(), received.Data["data"]!["name"]!.GetValue<string>()));
        // Through RabbitMQ, not only the database catch-up that would also find it: B's queue carried it.
        var deadline = DateTime.UtcNow + SseClient.Patience;
        while (fanOut.Received == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "node B's RabbitMQ queue delivered nothing");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_broker_that_blocks_its_publishers_holds_no_database_transaction_open_and_the_events_flow_once_it_unblocks()
    {
        var user = await cluster.A.ActorAsync();
        await using var connection = new Npgsql.NpgsqlConnection(await cluster.A.Db(db => Task.FromResult(db.Database.GetConnectionString()!)));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        // Sessions of the service (not this one, nor PostgreSQL's own workers) in a transaction for 10 s or more.
        await using var longTransactions = new Npgsql.NpgsqlCommand("""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
              AND xact_start < now() - interval '10 seconds'
            """, connection);
        Guid eventId;
        try
        {
            await cluster.Rabbit.SetMemoryAlarmAsync(raised: true);
            await (await user.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name = "Renamed under an alarm" })).AssertStatus(200);
            eventId = await cluster.A.Db(db => db.OutboxMessages.Where(m => m.Subject == user.Id && m.Type == "user.updated").Select(m => m.Id).SingleAsync());

            // The relay's first batch waits for confirms that do not come (5 s PublishTimeout), later passes fail at
            // once (the connection is known to be blocked). Watched for 15 s: no transaction reaches 10 s. Without
            // the bound, the relay's would stay open for as long as the alarm lasts.
            var relays = new[] { cluster.A, cluster.B }.Select(n => n.Service<OutboxRelay>()).ToList();
            var connections = new[] { cluster.A, cluster.B }.Select(n => n.Service<RabbitMqConnection>()).ToList();
            var (tried, toldBlocked) = (false, false);
            var until = DateTime.UtcNow.AddSeconds(15);
            while (DateTime.UtcNow < until)
            {
                Assert.Equal(0L, (long)(await longTransactions.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
                tried |= relays.Any(r => r.OldestWaitingAge > TimeSpan.Zero);
                toldBlocked |= connections.Any(c => c.BlockedBecause is not null);
                await Task.Delay(250, TestContext.Current.CancellationToken);
            }

            Assert.True(tried, "no relay tried to publish the waiting event");
            Assert.True(toldBlocked, "RabbitMQ never told a publishing node that it was blocked");
            Assert.Null(await cluster.A.Db(db => db.OutboxMessages.Where(m => m.Id == eventId).Select(m => m.PublishedAt).SingleAsync()));
        }
        finally
        {
            await cluster.Rabbit.SetMemoryAlarmAsync(raised: false);
        }

        var deadline = DateTime.UtcNow + Patience;
        while (await cluster.A.Db(db => db.OutboxMessages.Where(m => m.Id == eventId).Select(m => m.PublishedAt).SingleAsync()) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the event was not published after the alarm cleared");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        // Published after the broker said it unblocked the node that published.
        Assert.Contains(new[] { cluster.A, cluster.B }, n => n.Service<RabbitMqConnection>() is { IsOpen: true, BlockedBecause: null });
    }

    [Fact]
    public async Task Events_committed_while_the_broker_is_down_wait_in_the_outbox_and_all_arrive_in_order_when_it_returns()
    {
        const int users = 10, renamesEach = 100;
        await using var observer = await ExchangeObserver.StartAsync(cluster.Rabbit.Uri);
        var actors = new List<Actor>();
        for (var i = 0; i < users; i++)
        {
            actors.Add(await cluster.A.ActorAsync());
        }

        await cluster.Rabbit.StopAsync();
        try
        {
            // 1,000 acknowledged changes, spread over both nodes, while nothing can be published.
            await Parallel.ForEachAsync(actors.Select((actor, i) => (actor: i % 2 == 0 ? actor : actor with { App = cluster.B }, i)),
                new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (item, ct) =>
                {
                    var client = item.actor.Client();
                    for (var n = 1; n <= renamesEach; n++)
                    {
                        await (await client.PatchAsJsonAsync($"/api/v1/users/{item.actor.Id}", new { name = $"name {n}" }, ct)).AssertStatus(200);
                    }
                });

            var ids = actors.Select(a => a.Id).ToList();
            var waiting = await cluster.A.Db(db => db.OutboxMessages.CountAsync(m => ids.Contains(m.Subject) && m.Type == "user.updated" && m.PublishedAt == null));
            Assert.Equal(users * renamesEach, waiting);

            // The lag operators watch grows while events wait (the relay keeps trying, with back-off).
            var relays = new[] { cluster.A, cluster.B }.Select(n => n.Service<OutboxRelay>()).ToList();
            var lagDeadline = DateTime.UtcNow + Patience;
            while (relays.All(r => r.OldestWaitingAge == TimeSpan.Zero))
            {
                Assert.True(DateTime.UtcNow < lagDeadline, "no relay reported waiting events");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            // Still ready (requests are served), and saying what is missing.
            var health = await cluster.A.CreateClient().GetAsync("/health/ready", TestContext.Current.CancellationToken);
            Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Degraded", await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        finally
        {
            await cluster.Rabbit.StartAsync();
        }

        var deadline = DateTime.UtcNow + Patience;
        var subjects = actors.Select(a => a.Id.ToString()).ToHashSet();
        List<(string Type, long Sequence, JsonObject Event, string? MessageId)> renames;
        while (true)
        {
            renames = observer.Received.Where(r => r.Type == "user.updated" && subjects.Contains(r.Event["subject"]!.GetValue<string>())).ToList();
            if (renames.Select(r => r.Event["id"]!.GetValue<string>()).Distinct().Count() == users * renamesEach)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"only {renames.Count} of {users * renamesEach} events arrived within {Patience.TotalSeconds} s of the broker's return");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        // At least once, and per subject in commit order (first arrivals; a batch the broker half-took may come twice).
        foreach (var subject in subjects)
        {
            var names = renames.Where(r => r.Event["subject"]!.GetValue<string>() == subject)
                .DistinctBy(r => r.Event["id"]!.GetValue<string>())
                .Select(r => r.Event["data"]!["name"]!.GetValue<string>());
            Assert.Equal(Enumerable.Range(1, renamesEach).Select(n => $"name {n}"), names);
        }

        Assert.All(renames, r => Assert.Equal(r.Event["id"]!.GetValue<string>(), r.MessageId));
        var sequences = renames.DistinctBy(r => r.Sequence).Select(r => r.Sequence).ToList();
        Assert.Equal(users * renamesEach, sequences.Count);
        // And the outbox knows they left (marked right after the broker's confirms).
        while (await cluster.A.Db(db => db.OutboxMessages.CountAsync(m => m.PublishedAt == null)) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "events were delivered but never marked published");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        // ... and the lag is back to nothing once a relay pass finds nothing waiting.
        while (new[] { cluster.A, cluster.B }.Any(n => n.Service<OutboxRelay>().OldestWaitingAge > TimeSpan.Zero))
        {
            Assert.True(DateTime.UtcNow < deadline, "a relay still reports waiting events after all were published");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_consumer_queue_that_rejects_an_event_dead_letters_it_to_the_durable_dead_letter_queue()
    {
        var user = await cluster.A.ActorAsync();
        var factory = new ConnectionFactory { Uri = new Uri(cluster.Rabbit.Uri) };
        await using var connection = await factory.CreateConnectionAsync(TestContext.Current.CancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: TestContext.Current.CancellationToken);
        // What an integrator does (docs/api/events.md): a durable queue of its own, dead-lettering to ours.
        var queue = "integrator-" + Guid.NewGuid().ToString("N");
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: true,
            arguments: new Dictionary<string, object?> { ["x-dead-letter-exchange"] = RabbitMqConnection.DeadLetterExchange },
            cancellationToken: TestContext.Current.CancellationToken);
        await channel.QueueBindAsync(queue, RabbitMqConnection.Exchange, "user.updated", cancellationToken: TestContext.Current.CancellationToken);

        await user.RenameAsync("Rejected downstream");
        var deadline = DateTime.UtcNow + Patience;
        BasicGetResult? got;
        while ((got = await channel.BasicGetAsync(queue, autoAck: false, TestContext.Current.CancellationToken)) is null
               || !Encoding.UTF8.GetString(got.Body.Span).Contains("Rejected downstream", StringComparison.Ordinal))
        {
            if (got is not null)
            {
                await channel.BasicAckAsync(got.DeliveryTag, false, TestContext.Current.CancellationToken);
            }

            Assert.True(DateTime.UtcNow < deadline, "the event never reached the integrator's queue");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        var eventId = got.BasicProperties.MessageId;
        await channel.BasicRejectAsync(got.DeliveryTag, requeue: false, TestContext.Current.CancellationToken);

        BasicGetResult? dead;
        while ((dead = await channel.BasicGetAsync(RabbitMqConnection.DeadLetterExchange, autoAck: true, TestContext.Current.CancellationToken)) is null
               || dead.BasicProperties.MessageId != eventId)
        {
            Assert.True(DateTime.UtcNow < deadline, "the rejected event never reached the dead-letter queue");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Contains("Rejected downstream", Encoding.UTF8.GetString(dead.Body.Span), StringComparison.Ordinal);
    }
}
