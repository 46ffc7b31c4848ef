using Groundwork.Platform.Configuration;
using Groundwork.Platform.Redis;
using StackExchange.Redis;

namespace Groundwork.Platform.RateLimiting;

/// <summary>
/// The token buckets of <see cref="RateLimiter"/> kept in Redis, so every node draws on the same bucket. One Lua
/// script per call does the same arithmetic as the in-process store, atomically, on Redis's own clock (nodes'
/// clocks may differ); idle buckets expire once they would be full again.
/// </summary>
public sealed class RedisRateLimitStore(RedisConnection redis)
{
    /// <summary>The connection, whose back-off every user of Redis on this node shares.</summary>
    public RedisConnection Connection => redis;

    // KEYS[1] bucket; ARGV: capacity, window in ms, permits requested, tokens wanted (≥ requested: the rest is
    // leased to the calling node), consume (1/0). Returns { tokens granted (0 = refused), tokens left × 1000 }.
    private static readonly LuaScript Script = LuaScript.Prepare("""
        local capacity = tonumber(@capacity)
        local window = tonumber(@window)
        local requested = tonumber(@requested)
        local wanted = tonumber(@wanted)
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local state = redis.call('HMGET', @key, 'tokens', 'ts')
        local tokens = tonumber(state[1])
        local ts = tonumber(state[2])
        if tokens == nil then tokens = capacity; ts = now end
        tokens = math.min(capacity, tokens + (math.max(0, now - ts) * capacity / window))
        local granted = 0
        if tokens >= requested then
            granted = requested
            if tonumber(@consume) == 1 then
                granted = math.max(requested, math.min(wanted, math.floor(tokens)))
                tokens = tokens - granted
            end
        end
        redis.call('HSET', @key, 'tokens', tostring(tokens), 'ts', tostring(now))
        redis.call('PEXPIRE', @key, window + 1000)
        return { granted, math.floor(tokens * 1000) }
        """);

    /// <summary>
    /// Takes (or peeks at) <paramref name="permits"/> tokens, and up to <paramref name="wanted"/> when there are
    /// more (the caller leases the rest); returns how many were granted (0 when refused) and what is left. Throws
    /// <see cref="RedisException"/> or <see cref="TimeoutException"/> when Redis is down, slow (250 ms) or not
    /// connected yet.
    /// </summary>
    public async Task<(int Granted, double Tokens)> TakeAsync(string bucket, RateLimitRule rule, int permits, int wanted, bool consume)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var database = redis.TryGetDatabase() ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        var result = (RedisResult[])(await Script.EvaluateAsync(database, new
        {
            key = (RedisKey)("gw:rl:" + bucket),
            capacity = rule.Permits,
            window = (long)rule.Window.TotalMilliseconds,
            requested = permits,
            wanted = Math.Max(permits, wanted),
            consume = consume ? 1 : 0,
        }))!;
        return ((int)result[0], (long)result[1] / 1000.0);
    }
}
