using System.Text;
using Groundwork.Platform.Realtime;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// Publishes events to the <see cref="RabbitMqConnection.Exchange"/> topic exchange (routing key = the event type,
/// persistent, message id = the event id) and returns once the broker has confirmed every one of them. Who
/// may see an event travels in headers (<c>gw-visibility</c>, <c>gw-owner</c>, <c>gw-other-owner</c>) for the
/// nodes' streams; it is not part of the event.
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
            ["gw-visibility"] = (int)e.Audience.Visibility,
            ["gw-owner"] = e.Audience.Owner?.ToString(),
            ["gw-other-owner"] = e.Audience.OtherOwner?.ToString(),
        },
    };

    /// <summary>The audience a delivery carries in its headers (strings arrive as bytes).</summary>
    internal static EventAudience AudienceOf(IReadOnlyBasicProperties properties)
    {
        var headers = properties.Headers;
        static Guid? Id(object? value) => value switch
        {
            byte[] bytes when Guid.TryParse(Encoding.UTF8.GetString(bytes), out var id) => id,
            string text when Guid.TryParse(text, out var id) => id,
            _ => null,
        };

        var visibility = headers?.TryGetValue("gw-visibility", out var v) == true && v is int n && Enum.IsDefined((EventVisibility)n)
            ? (EventVisibility)n
            // Unknown: the strictest reading (owners and admins) rather than everyone.
            : EventVisibility.OwnersAndAdmins;
        object? Header(string name) => headers is not null && headers.TryGetValue(name, out var value) ? value : null;
        return new EventAudience(visibility, Id(Header("gw-owner")), Id(Header("gw-other-owner")));
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is { } channel)
        {
            await channel.DisposeAsync();
        }
    }
}

/// <summary>
/// Feeds this node's <see cref="EventHub"/> from RabbitMQ: a queue of its own (exclusive, deleted with the
/// connection) bound to every event, so a stream on any node receives what any node's relay published. Deliveries
/// are acknowledged on receipt: the database, not this queue, is where a stream catches up after a reconnect.
/// </summary>
public sealed class RabbitMqFanOut(RabbitMqConnection rabbit, EventHub hub, ILogger<RabbitMqFanOut> logger) : BackgroundService
{
    private long _received;

    /// <summary>Events this node has received from its queue (tests tell broker deliveries from database catch-ups by it).</summary>
    public long Received => Interlocked.Read(ref _received);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        rabbit.Recovered += () =>
        {
            hub.MarkBehind(hub.LastSequence);
            return Task.CompletedTask;
        };
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
        consumer.ReceivedAsync += (_, delivery) =>
        {
            try
            {
                hub.Publish([EventEnvelope.Parse(delivery.Body.Span, RabbitMqBroker.AudienceOf(delivery.BasicProperties))]);
                Interlocked.Increment(ref _received);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
            {
                // Not one of ours (someone else published to the exchange): streams never see it.
                logger.LogWarning("Ignored a message on {Exchange} that is not a Groundwork event: {Reason}", RabbitMqConnection.Exchange, e.Message);
            }

            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer, stoppingToken);
        // The subscription may have started after events this node should have seen: catch up from the database.
        hub.MarkBehind(hub.LastSequence);
        await Task.Delay(Timeout.Infinite, stoppingToken);
    }
}
