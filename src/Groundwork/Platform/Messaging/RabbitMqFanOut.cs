using Groundwork.Platform.Realtime;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// Feeds this node's <see cref="EventHub"/> when RabbitMQ says events were published: a queue of its own
/// (exclusive, deleted with the connection) bound to every event wakes a reader that takes the new events from
/// the database, in sequence order, and hands those to the hub. A delivery is only a hint: whatever someone else
/// publishes to the exchange never reaches a stream, and no sequence the database does not hold is ever believed.
/// </summary>
public sealed class RabbitMqFanOut(RabbitMqConnection rabbit, EventHub hub, EventStream events, IServiceScopeFactory scopes, ILogger<RabbitMqFanOut> logger) : BackgroundService
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
                return await events.LatestSequenceAsync(cancellationToken);
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
