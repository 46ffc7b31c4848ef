using StackExchange.Redis;

namespace Groundwork.Platform.Redis;

/// <summary>
/// The one connection to Redis (<c>Groundwork:Redis</c>), shared by everything that uses it. It connects in the
/// background and reconnects by itself; while Redis is unreachable, callers get exceptions quickly (short
/// timeouts) and fall back to their in-process behaviour, so an outage degrades the service instead of failing it.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly Task<ConnectionMultiplexer> _connection;

    public RedisConnection(string configuration)
    {
        Options = ConfigurationOptions.Parse(configuration);
        Options.AbortOnConnectFail = false;
        // While disconnected, fail at once instead of queueing commands until a timeout: callers have fallbacks.
        Options.BacklogPolicy = BacklogPolicy.FailFast;
        Options.ConnectTimeout = Math.Min(Options.ConnectTimeout, 2_000);
        Options.SyncTimeout = Math.Min(Options.SyncTimeout, 250);
        Options.AsyncTimeout = Math.Min(Options.AsyncTimeout, 250);
        // Connect at start, in the background: the first requests do not wait for it.
        _connection = ConnectionMultiplexer.ConnectAsync(Options);
    }

    private ConfigurationOptions Options { get; }

    /// <summary>The database while connected, else null (not yet connected, or reconnecting after an outage).</summary>
    public IDatabase? TryGetDatabase() =>
        _connection.IsCompletedSuccessfully && _connection.Result.IsConnected ? _connection.Result.GetDatabase() : null;

    /// <summary>The database, waiting for the first connection (health checks); throws while Redis is down.</summary>
    public async Task<IDatabase> DatabaseAsync() => (await _connection).GetDatabase();

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsCompletedSuccessfully)
        {
            await _connection.Result.DisposeAsync();
        }
    }
}
