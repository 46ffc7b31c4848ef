using StackExchange.Redis;

namespace Groundwork.Platform.Redis;

/// <summary>
/// The one connection to Redis (<c>Groundwork:Redis</c>), shared by everything that uses it. It connects in the
/// background and reconnects by itself; while Redis is unreachable, callers get exceptions quickly (short
/// timeouts) and fall back to their in-process behaviour, so an outage degrades the service instead of failing it.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection;

    public RedisConnection(string configuration)
    {
        Options = ConfigurationOptions.Parse(configuration);
        Options.AbortOnConnectFail = false;
        Options.ConnectTimeout = Math.Min(Options.ConnectTimeout, 2_000);
        Options.SyncTimeout = Math.Min(Options.SyncTimeout, 1_000);
        Options.AsyncTimeout = Math.Min(Options.AsyncTimeout, 1_000);
        _connection = new(() => ConnectionMultiplexer.ConnectAsync(Options));
    }

    public ConfigurationOptions Options { get; }

    /// <summary>The database, once connected; callers treat a <see cref="RedisException"/> or timeout as "Redis is down".</summary>
    public async Task<IDatabase> DatabaseAsync() => (await _connection.Value).GetDatabase();

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            await (await _connection.Value).DisposeAsync();
        }
    }
}
