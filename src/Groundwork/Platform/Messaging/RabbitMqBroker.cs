using System.Text;
using Groundwork.Platform.Realtime;
using RabbitMQ.Client;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client.Events;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// Publishes events to the <see cref="RabbitMqConnection.Exchange"/> topic exchange (routing key = the event type,
/// persistent, message id = the event id, <c>gw-sequence</c> header) and returns once the broker has confirmed
/// every one of them. Who may see an event is not sent: the nodes' streams read events from the database.
/// </summary>
public sealed class RabbitMqBroker(RabbitMqConnection rabbit) : IEventBroker, IAsyncDisposable
{
    private readonly SemaphoreSlim _publishing = new(1, 1);
    private IChannel? _channel;

    public string Name => "rabbitmq";

    public async Task PublishAsync(IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        await _publishing.WaitAsync(cancellationToken);
        try
        {
            var channel = _channel is { IsOpen: true } open ? open : await OpenChannelAsync(cancellationToken);
            // All in flight at once; each completes when the broker confirms it (or throws on a nack or a lost channel).
            var confirms = events.Select(e => channel.BasicPublishAsync(
                RabbitMqConnection.Exchange, e.Type, mandatory: false, Properties(e), Encoding.UTF8.GetBytes(e.Json), cancellationToken).AsTask()).ToList();
            await Task.WhenAll(confirms);
        }
        finally
        {
            _publishing.Release();
        }
    }

    private async Task<IChannel> OpenChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { } broken)
        {
            _channel = null;
            await broken.DisposeAsync();
        }

        var connection = await rabbit.OpenAsync(cancellationToken);
        _channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        return _channel;
    }

    private static BasicProperties Properties(EventEnvelope e) => new()
    {
        MessageId = e.Id.ToString(),
        Type = e.Type,
        ContentType = "application/json",
        DeliveryMode = DeliveryModes.Persistent,
        Timestamp = new AmqpTimestamp(new DateTimeOffset(DateTime.SpecifyKind(e.OccurredAt, DateTimeKind.Utc)).ToUnixTimeSeconds()),
        Headers = new Dictionary<string, object?>
        {
            ["gw-sequence"] = e.Sequence,
        },
    };

    public async ValueTask DisposeAsync()
    {
        if (_channel is { } channel)
        {
            await channel.DisposeAsync();
        }
    }
}

/// <summary>
/// Feeds this node's <see cref="EventHub"/> when RabbitMQ says events were published: a queue of its own
/// (exclusive, deleted with the connection) bound to every event wakes a reader that takes the new events from
/// the database, in sequence order, and hands those to the hub. A delivery is only a hint: whatever someone else
/// publishes to the exchange never reaches a stream, and no sequence the database does not hold is ever believed.
/// </summary>
public sealed class RabbitMqFanOut(RabbitMqConnection rabbit, EventHub hub, IServiceScopeFactory scopes, ILogger<RabbitMqFanOut> logger) : BackgroundService
{
    private const int Window = 500;
    private readonly OutboxSignal _wake = new();
    private long _received;
    private long _tail;

    /// <summary>Deliveries this node has received from its queue (tests tell broker wake-ups from database polls by it).</summary>
    public long Received => Interlocked.Read(ref _received);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var background = Hosting.BackgroundWork.Begin("rabbitmq-fan-out");
        rabbit.Recovered += () =>
        {
            // Deliveries may have been missed while disconnected: read what the database has.
            _wake.Raise();
            return Task.CompletedTask;
        };
        _tail = await LatestAsync(stoppingToken);
        _ = SubscribeAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Woken by deliveries; every second anyway, so a missed wake-up costs at most a second.
                await _wake.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
                await ReadNewAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not read new events for this node's streams; retrying");
            }
        }
    }

    private async Task ReadNewAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            List<OutboxMessage> rows;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<Persistence.GroundworkDbContext>();
                var from = _tail;
                rows = await db.OutboxMessages.AsNoTracking()
                    .Where(m => m.Sequence > from && m.Sequence <= from + Window)
                    .OrderBy(m => m.Sequence)
                    .ToListAsync(cancellationToken);
            }

            if (rows.Count == 0)
            {
                return;
            }

            hub.Publish(rows.Select(EventEnvelope.From).ToList());
            _tail = rows[^1].Sequence!.Value;
            if (rows.Count < Window)
            {
                return;
            }
        }
    }

    private async Task<long> LatestAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<Persistence.GroundworkDbContext>();
                return await db.OutboxMessages.MaxAsync(m => m.Sequence, cancellationToken) ?? 0;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Waiting for the database before following events: {Reason}", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private async Task SubscribeAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ConsumeAsync(stoppingToken);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogDebug(e, "Could not subscribe to RabbitMQ yet; retrying");
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        var connection = await rabbit.OpenAsync(stoppingToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
        var queue = await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: stoppingToken);
        await channel.QueueBindAsync(queue.QueueName, RabbitMqConnection.Exchange, "#", cancellationToken: stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, _) =>
        {
            Interlocked.Increment(ref _received);
            _wake.Raise();
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer, stoppingToken);
        _wake.Raise();
        await Task.Delay(Timeout.Infinite, stoppingToken);
    }
}
