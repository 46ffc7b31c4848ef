using Groundwork.Platform.Configuration;
using RabbitMQ.Client;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// This node's one AMQP connection (<c>Groundwork:Messaging:RabbitMq:Uri</c>), opened on first use. Once open, the
/// client recovers it (and the channels, queues and consumers on it) by itself after a network failure or a broker
/// restart; until then every use throws and callers retry later. Events are never lost meanwhile: they wait in the
/// outbox.
/// </summary>
public sealed class RabbitMqConnection(GroundworkSettings settings, ILogger<RabbitMqConnection> logger) : IAsyncDisposable
{
    /// <summary>The durable topic exchange every event is published to, routed by its type (<c>order.paid</c>).</summary>
    public const string Exchange = "groundwork.events";

    /// <summary>
    /// Where consumers' rejected or expired messages go: a durable fanout exchange with a durable queue of the same
    /// name. Queues that consume <see cref="Exchange"/> set <c>x-dead-letter-exchange</c> to it, so nothing they
    /// give up on is lost and operators find it in one place.
    /// </summary>
    public const string DeadLetterExchange = "groundwork.events.dead-letter";

    private readonly SemaphoreSlim _opening = new(1, 1);
    private IConnection? _connection;

    public bool IsOpen => _connection?.IsOpen == true;

    private volatile string? _blockedBecause;

    /// <summary>
    /// Why the broker has blocked this connection's publishers (a memory or disk alarm), or null. While blocked, it
    /// reads nothing this connection sends: a publish would wait for confirms that cannot come, and even opening a
    /// channel would wait.
    /// </summary>
    public string? BlockedBecause => _blockedBecause;

    /// <summary>Raised after the client restored a lost connection (subscribers may have missed deliveries meanwhile).</summary>
    public event Func<Task>? Recovered;

    public async Task<IConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } existing)
        {
            return existing.IsOpen ? existing : throw new InvalidOperationException("RabbitMQ is unreachable; the client is reconnecting");
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { } opened)
            {
                return opened;
            }

            var factory = new ConnectionFactory
            {
                Uri = settings.RabbitMqUri ?? throw new InvalidOperationException("Groundwork:Messaging:RabbitMq:Uri is not set"),
                AutomaticRecoveryEnabled = true,
                TopologyRecoveryEnabled = true,
                NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
                RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
                ClientProvidedName = $"groundwork@{Environment.MachineName}",
            };
            var connection = await factory.CreateConnectionAsync(cancellationToken);
            try
            {
                await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);
                await channel.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
                await channel.QueueDeclareAsync(DeadLetterExchange, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
                await channel.QueueBindAsync(DeadLetterExchange, DeadLetterExchange, "", cancellationToken: cancellationToken);
            }
            catch
            {
                // Not kept: an auto-recovering connection nobody holds would reconnect forever.
                await connection.DisposeAsync();
                throw;
            }

            connection.ConnectionShutdownAsync += (_, e) =>
            {
                if (e.Initiator != ShutdownInitiator.Application)
                {
                    logger.LogWarning("Lost the RabbitMQ connection ({Reason}); events wait in the outbox until it is back", e.ReplyText);
                }

                return Task.CompletedTask;
            };
            connection.ConnectionBlockedAsync += (_, e) =>
            {
                _blockedBecause = e.Reason;
                logger.LogWarning("RabbitMQ blocked this node's publishing ({Reason}); events wait in the outbox until it unblocks", e.Reason);
                return Task.CompletedTask;
            };
            connection.ConnectionUnblockedAsync += (_, _) =>
            {
                _blockedBecause = null;
                logger.LogInformation("RabbitMQ unblocked this node's publishing");
                return Task.CompletedTask;
            };
            connection.RecoverySucceededAsync += async (_, _) =>
            {
                logger.LogInformation("RabbitMQ connection recovered");
                if (Recovered is { } recovered)
                {
                    await recovered();
                }
            };
            _connection = connection;
            // The URI's password never reaches the log.
            logger.LogInformation("Connected to RabbitMQ at {Host}:{Port}", settings.RabbitMqUri.Host, settings.RabbitMqUri.Port);
            return connection;
        }
        finally
        {
            _opening.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogDebug(e, "Closing the RabbitMQ connection failed");
            }

            connection.Dispose();
        }
    }
}
