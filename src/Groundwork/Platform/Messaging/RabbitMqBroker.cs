using System.Text;
using RabbitMQ.Client;

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
        if (rabbit.BlockedBecause is { } reason)
        {
            // Nothing sent now could be confirmed: fail at once (rather than hold the relay's transaction for the whole
            // publish timeout on every pass), and the relay's next pass tries again.
            throw new InvalidOperationException($"RabbitMQ has blocked publishing ({reason})");
        }

        await _publishing.WaitAsync(cancellationToken);
        try
        {
            var channel = _channel is { IsOpen: true } open ? open : await OpenChannelAsync(cancellationToken);
            // All in flight at once; each completes when the broker confirms it (or throws on a nack or a lost channel).
            var confirms = events.Select(e => channel.BasicPublishAsync(
                RabbitMqConnection.Exchange, e.Type, mandatory: false, Properties(e), Encoding.UTF8.GetBytes(e.Json), cancellationToken).AsTask()).ToList();
            await Task.WhenAll(confirms);
        }
        catch
        {
            // A publish that failed or was given up on may leave confirmations pending on the channel: the next batch
            // gets a fresh one.
            DropChannel();
            throw;
        }
        finally
        {
            _publishing.Release();
        }
    }

    /// <summary>
    /// Forgets the channel and closes it in the background: closing a channel whose connection the broker has blocked
    /// waits for the broker too, and a broken channel has nothing left to say.
    /// </summary>
    private void DropChannel()
    {
        if (_channel is { } dropped)
        {
            _channel = null;
            _ = CloseQuietlyAsync(dropped);
        }
    }

    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            await channel.DisposeAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Already broken: nothing to tell.
        }
    }

    private async Task<IChannel> OpenChannelAsync(CancellationToken cancellationToken)
    {
        DropChannel();
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
