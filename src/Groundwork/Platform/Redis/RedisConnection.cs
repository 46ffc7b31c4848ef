using StackExchange.Redis;

namespace Groundwork.Platform.Redis;

/// <summary>
/// The one connection to Redis (<c>Groundwork:Redis</c>), shared by everything that uses it. It connects in the
/// background and reconnects by itself; while Redis is unreachable, callers get exceptions quickly (short
/// timeouts) and fall back to their in-process behaviour, so an outage degrades the service instead of failing it.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    /// <summary>After a failure, callers skip Redis for this long (their fallbacks serve), then try again.</summary>
    public static readonly TimeSpan Backoff = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan OutageLogInterval = TimeSpan.FromSeconds(30);

    private readonly Task<ConnectionMultiplexer> _connection;
    private readonly ILogger? _logger;
    private long _failedAt;
    private long _lastOutageLog;

    private const int TopologyUnknown = 0;
    private const int Standalone = 1;
    private const int Cluster = 2;

    // Standalone includes a primary with replicas, and Sentinel.
    private int _topology = TopologyUnknown;

    public RedisConnection(string configuration, ILogger<RedisConnection>? logger = null)
    {
        _logger = logger;
        Options = ConfigurationOptions.Parse(configuration);
        Options.AbortOnConnectFail = false;
        // While disconnected, fail at once instead of queueing commands until a timeout: callers have fallbacks.
        Options.BacklogPolicy = BacklogPolicy.FailFast;
        Options.ConnectTimeout = Math.Min(Options.ConnectTimeout, 2_000);
        Options.SyncTimeout = Math.Min(Options.SyncTimeout, 250);
        Options.AsyncTimeout = Math.Min(Options.AsyncTimeout, 250);
        // Replies are completed on the .NET thread pool rather than the library's own dedicated threads: handing each
        // reply from one of those threads to the pool cost a lock and a context switch per command (ADR 0017).
        Options.SocketManager = SocketManager.ThreadPool;
        // Connect at start, in the background: the first requests do not wait for it.
        _connection = ConnectionMultiplexer.ConnectAsync(Options);
    }

    private ConfigurationOptions Options { get; }

    /// <summary>The channel prefix of <c>Groundwork:Redis</c> (<c>channelPrefix=</c>), or empty.</summary>
    public string ChannelPrefix => Options.ChannelPrefix is { IsNullOrEmpty: false } prefix ? prefix.ToString() : "";

    /// <summary>Hands the connection to <paramref name="use"/> once it exists (tracing instruments it).</summary>
    public void WhenConnected(Action<IConnectionMultiplexer> use) =>
        _connection.ContinueWith(t => use(t.Result), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    /// <summary>The database while connected, else null (not yet connected, or reconnecting after an outage).</summary>
    public IDatabase? TryGetDatabase() =>
        _connection.IsCompletedSuccessfully && _connection.Result.IsConnected ? _connection.Result.GetDatabase() : null;

    /// <summary>
    /// Whether Redis is a cluster; null until first connected (servers report their type only then). A server does
    /// not turn into a cluster while it runs, so the first answer is kept.
    /// </summary>
    public bool? IsCluster
    {
        get
        {
            var known = Volatile.Read(ref _topology);
            if (known == TopologyUnknown && _connection.IsCompletedSuccessfully && _connection.Result.IsConnected)
            {
                var servers = _connection.Result.GetServers().Where(s => s.IsConnected).ToArray();
                if (servers.Length > 0)
                {
                    known = servers.Any(s => s.ServerType == ServerType.Cluster) ? Cluster : Standalone;
                    Volatile.Write(ref _topology, known);
                }
            }

            return known == TopologyUnknown ? null : known == Cluster;
        }
    }

    /// <summary>
    /// Whether a caller with a fallback should skip Redis now: it failed (for any caller on this node, so the rate
    /// limiter and the cache agree) within <see cref="Backoff"/>. An outage costs one slow call every few seconds,
    /// not one per request.
    /// </summary>
    public bool RecentlyFailed
    {
        get
        {
            var failedAt = Interlocked.Read(ref _failedAt);
            return failedAt != 0 && TimeProvider.System.GetElapsedTime(failedAt) < Backoff;
        }
    }

    /// <summary>
    /// What counts as Redis failing, for callers that fall back instead of failing the request: whatever a Redis
    /// call throws (unreachable, refused, timed out, cancelled while reconnecting, or the client's own pipe torn
    /// down mid-read, all seen in outage tests), except a cached value that does not parse, which callers handle.
    /// </summary>
    public static bool IsFailure(Exception e) => e is not System.Text.Json.JsonException;

    /// <summary>Starts the back-off; logs at most every 30 s, naming what the callers fall back to.</summary>
    public void Failed(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var now = TimeProvider.System.GetTimestamp();
        Interlocked.Exchange(ref _failedAt, now);
        var last = Interlocked.Read(ref _lastOutageLog);
        if ((last == 0 || TimeProvider.System.GetElapsedTime(last, now) > OutageLogInterval) && Interlocked.CompareExchange(ref _lastOutageLog, now, last) == last)
        {
            _logger?.LogWarning("Redis is unreachable or failing; rate limits fall back to this node's own buckets and cached reads to the database: {Reason}", e.Message);
        }
    }

    /// <summary>Ends the back-off early (a call went through).</summary>
    public void Succeeded() => Interlocked.Exchange(ref _failedAt, 0);

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
