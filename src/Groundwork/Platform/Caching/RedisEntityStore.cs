using System.Globalization;
using Groundwork.Platform.Redis;
using StackExchange.Redis;

namespace Groundwork.Platform.Caching;

/// <summary>
/// The shared level of <see cref="EntityCache"/>: one Redis string per entity, <c>{version}:{json}</c>. Writes are
/// compare-and-set on the version in one Lua call, so whatever order concurrent writers and fillers reach Redis in,
/// the entry ends at the newest version (a slow fill that read the row before a commit cannot overwrite the value
/// that commit wrote through).
/// </summary>
public sealed class RedisEntityStore(RedisConnection redis)
{
    /// <summary>The connection, whose back-off every user of Redis on this node shares.</summary>
    public RedisConnection Connection => redis;

    /// <summary>
    /// What the scripts publish on: <see cref="InvalidationChannel"/> after the configured channel prefix. The client
    /// adds the prefix to its own SUBSCRIBE and PUBLISH, not to a channel named inside a script, so the scripts add it
    /// themselves: deployments sharing a Redis server (each on its own database number, with its own prefix) keep
    /// their announcements apart.
    /// </summary>
    public string Channel { get; } = redis.ChannelPrefix + InvalidationChannel;

    /// <summary>Every entity key starts so (rate-limit buckets use <c>gw:rl:</c>).</summary>
    public const string Prefix = "gw:e:";

    /// <summary>
    /// Where every change to an entry is announced (EntityCache.Copies): <c>i {key}</c> for one key, <c>c</c> for
    /// all, each as <c>n {number} {message}</c> and then again alone (the form releases before the numbering read).
    /// Heartbeats are <c>h {node} {nonce} {count}</c>, count being the last number given out when Redis ran it.
    /// </summary>
    public const string InvalidationChannel = "gw:inv";

    /// <summary>
    /// The counter that numbers the announcements on <see cref="InvalidationChannel"/>. A node that missed one (its
    /// subscription dropped and came back, however late the client reports it) sees the gap at the next number or
    /// heartbeat it hears, and drops every copy. A counter that is lost (Redis restarted empty, the key evicted or
    /// deleted) starts again at a random value, not where the old one stopped.
    /// </summary>
    public const string SequenceKey = "gw:inv:seq";

    // Publishes @message numbered, then alone: the second is for releases before the numbering (a rolling deploy
    // mixes them), and both come from one script, so nothing comes between them. If the counter cannot be used (a
    // value that is not a number, an ACL, Redis out of memory), the message goes out only unnumbered: the nodes
    // that hear it drop all their copies. The counter is not a declared key (KEYS), so that a script on one entity
    // key stays a single-slot command. Off a cluster that is allowed; on a known cluster nothing is announced, and
    // while the topology is still unknown the pcall absorbs a cluster's refusal. string.format keeps every digit
    // (tostring would round to 14).
    private const string AnnounceLua = """
        local numbered, number = pcall(function()
            redis.call('SET', @sequence, @start, 'NX')
            return redis.call('INCR', @sequence)
        end)
        if numbered then redis.call('PUBLISH', @channel, 'n ' .. string.format('%d', number) .. ' ' .. @message) end
        redis.call('PUBLISH', @channel, @message)
        """;

    // Returns nil when stored, else the current (newer or equal) entry, which the caller uses instead. A write
    // (not a fill) announces the key in the same script, so no node can hear of it late; it does so even when
    // Redis already holds that version or a newer one, since a fill (which announces nothing) may have put it
    // there while other nodes still hold copies of an older one.
    private static readonly LuaScript PutScript = LuaScript.Prepare($$"""
        if @announce == '1' then
        {{AnnounceLua}}
        end
        local current = redis.call('GET', @key)
        if current then
            local version = tonumber(string.match(current, '^(%d+):'))
            if version and version >= tonumber(@version) then return current end
        end
        redis.call('SET', @key, @version .. ':' .. @value, 'PX', @ttl)
        return false
        """);

    private static readonly LuaScript DeleteScript = LuaScript.Prepare($$"""
        local deleted = redis.call('DEL', @key)
        if @announce == '1' then
        {{AnnounceLua}}
        end
        return deleted
        """);

    private static readonly LuaScript AnnounceScript = LuaScript.Prepare(AnnounceLua);

    // A heartbeat reads the counter, never writes it: no write per heartbeat to replicate, persist or refuse under
    // maxmemory. '?' when it cannot be read (the nodes then do not accept the heartbeat), '0' while there is none.
    private static readonly LuaScript HeartbeatScript = LuaScript.Prepare("""
        local read, count = pcall(redis.call, 'GET', @sequence)
        if not read then count = '?' elseif not count then count = '0' end
        redis.call('PUBLISH', @channel, @message .. ' ' .. count)
        """);

    /// <summary>
    /// The entry under <paramref name="key"/>, or null. Throws while Redis is down or slow (250 ms). The JSON stays
    /// the UTF-8 bytes Redis sent (no string is made of it on the hot read path).
    /// </summary>
    public async Task<(long Version, ReadOnlyMemory<byte> Json)?> GetAsync(string key)
    {
        var value = await Database().StringGetAsync(key);
        return value.IsNull ? null : Parse(value);
    }

    /// <summary>Stores the entry unless Redis holds the same or a newer version, which is then returned.</summary>
    /// <param name="announce">Announce the key on <see cref="InvalidationChannel"/>: a write (not a fill) of a kind that nodes keep copies of.</param>
    public async Task<(long Version, ReadOnlyMemory<byte> Json)?> PutAsync(string key, long version, string json, TimeSpan lifetime, bool announce)
    {
        var current = await PutScript.EvaluateAsync(Database(), new
        {
            key = (RedisKey)key,
            version = version.ToString(CultureInfo.InvariantCulture),
            value = json,
            ttl = (long)lifetime.TotalMilliseconds,
            announce = announce && Announces ? "1" : "0",
            channel = Channel,
            sequence = SequenceKey,
            start = RandomCounterStart(),
            message = "i " + key,
        });
        return current.IsNull ? null : Parse((byte[])current!);
    }

    /// <summary>Deletes and announces one key (one key per call: keys of different cluster slots cannot share a command).</summary>
    public async Task DeleteAsync(string key) =>
        await DeleteScript.EvaluateAsync(Database(), new
        {
            key = (RedisKey)key,
            announce = Announces ? "1" : "0",
            channel = Channel,
            sequence = SequenceKey,
            start = RandomCounterStart(),
            message = "i " + key,
        });

    /// <summary>
    /// Publishes <c>h {node} {nonce} {count}</c> without waiting for Redis (a lost heartbeat is noticed by its
    /// sender).
    /// </summary>
    public void HeartbeatAndForget(string node, string nonce) =>
        HeartbeatScript.Evaluate(Database(), new { channel = Channel, sequence = SequenceKey, message = $"h {node} {nonce}" }, flags: CommandFlags.FireAndForget);

    /// <summary>
    /// Whether changes are announced: unless Redis is known to be a cluster, where messages from different shards
    /// reach a subscriber in no guaranteed order, so no node keeps copies (and the counter would live on one shard).
    /// </summary>
    private bool Announces => redis.IsCluster != true;

    private object Announcement(string message) =>
        new { channel = Channel, sequence = SequenceKey, start = RandomCounterStart(), message };

    // Well below 2^53: Lua numbers are doubles, and every increment must stay exact.
    private static string RandomCounterStart() => Random.Shared.NextInt64(1, 1L << 50).ToString(CultureInfo.InvariantCulture);

    /// <summary>Where list generations live: outside <see cref="Prefix"/>, so dropping every entry keeps them.</summary>
    public const string GenerationPrefix = "gw:g:";

    // A generation starts at a random value, so a generation lost (evicted, deleted) and started again cannot meet
    // a total stored under its old value.
    private static readonly LuaScript BumpScript = LuaScript.Prepare("""
        if redis.call('EXISTS', @key) == 0 then redis.call('SET', @key, @start) end
        return redis.call('INCR', @key)
        """);

    private static readonly LuaScript StartScript = LuaScript.Prepare("""
        redis.call('SET', @key, @start, 'NX')
        return redis.call('GET', @key)
        """);

    public async Task BumpGenerationAsync(string key) =>
        await BumpScript.EvaluateAsync(Database(), new { key = (RedisKey)key, start = RandomGenerationStart() });

    /// <summary>The generation, started at a random value when there is none.</summary>
    public async Task<string> StartGenerationAsync(string key) =>
        (await StartScript.EvaluateAsync(Database(), new { key = (RedisKey)key, start = RandomGenerationStart() })).ToString();

    private static long RandomGenerationStart() => Random.Shared.NextInt64(1, long.MaxValue / 2);

    /// <summary>Both values in one round trip (null where absent); the keys must share a cluster slot (a hash tag).</summary>
    public async Task<(string? First, string? Second)> GetBothAsync(string first, string second)
    {
        var values = await Database().StringGetAsync([first, second]);
        return (values[0].IsNull ? null : values[0].ToString(), values[1].IsNull ? null : values[1].ToString());
    }

    public Task SetAsync(string key, string value, TimeSpan lifetime) => Database().StringSetAsync(key, value, lifetime);

    /// <summary>Deletes every entity entry (after an outage too long to remember which keys went stale).</summary>
    public async Task DeleteAllAsync()
    {
        var database = Database();
        foreach (var server in database.Multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            var batch = new List<Task>(500);
            await foreach (var key in server.KeysAsync(database.Database, Prefix + "*", pageSize: 500))
            {
                batch.Add(database.KeyDeleteAsync(key));
                if (batch.Count == 500)
                {
                    await Task.WhenAll(batch);
                    batch.Clear();
                }
            }

            await Task.WhenAll(batch);
        }

        if (Announces)
        {
            await AnnounceScript.EvaluateAsync(database, Announcement("c"));
        }
    }

    private IDatabase Database() =>
        redis.TryGetDatabase() ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");

    /// <summary>Splits <c>{version}:{json}</c>; null when the entry is not of that shape.</summary>
    private static (long Version, ReadOnlyMemory<byte> Json)? Parse(ReadOnlyMemory<byte> entry)
    {
        var colon = entry.Span.IndexOf((byte)':');
        return colon > 0 && long.TryParse(entry.Span[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? (version, entry[(colon + 1)..])
            : null;
    }
}
