using Groundwork.Platform.Redis;
using System.Collections.Concurrent;
using Groundwork.Platform.Configuration;

namespace Groundwork.Platform.RateLimiting;

/// <summary>The outcome of taking one token, with what the IETF RateLimit headers need.</summary>
public sealed record RateLimitDecision(bool Allowed, string Policy, RateLimitRule Rule, int Remaining, int ResetSeconds)
{
    public int RetryAfterSeconds => Math.Max(1, ResetSeconds);
}

/// <summary>
/// Token buckets keyed by (policy, principal). A bucket holds <c>Permits</c> tokens and refills continuously at
/// <c>Permits / Window</c>, so bursts up to the limit pass and the sustained rate is the limit. With
/// <c>Groundwork:Redis</c> set, the buckets live in Redis and every node shares them; while Redis is unreachable,
/// each node falls back to its own in-process buckets (the limits hold per node), so no request fails for it.
/// A node may take tokens from a shared bucket in leases it spends locally for up to a second, so a busy principal
/// costs one Redis call per lease, not per request. A lease starts at one token (exact: one call per request) and
/// doubles while the principal keeps spending whole leases, up to 1 % of the limit; one that lapses unused halves
/// the next. Leased tokens are already taken from the shared bucket, so all nodes together never pass more than
/// the limit; a lapsed lease's leftovers (at most 1 % of the limit) make them pass slightly fewer.
/// </summary>
public sealed class RateLimiter(TimeProvider clock, RedisRateLimitStore? shared = null)
{
    private static readonly TimeSpan LeaseLifetime = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private long _lastSweep;

    public ValueTask<RateLimitDecision> TryAcquireAsync(string policy, string key, RateLimitRule rule, int permits = 1) =>
        TakeAsync(policy, key, rule, consume: true, permits);

    /// <summary>Whether a call would be allowed now, without taking a token (refuse early, count later).</summary>
    public ValueTask<RateLimitDecision> PeekAsync(string policy, string key, RateLimitRule rule) =>
        TakeAsync(policy, key, rule, consume: false, permits: 1);

    /// <summary>
    /// Spends a token to record something against a limit after the fact (a credential that failed), refusing
    /// nothing now: unlike <see cref="TryAcquireAsync"/>, an empty bucket is not counted as a refused request.
    /// </summary>
    public async ValueTask RecordAsync(string policy, string key, RateLimitRule rule) =>
        await DecideAsync(policy, key, rule, consume: true, permits: 1);

    /// <summary>Every refusal is counted for operators; the usual path (decided in memory) stays synchronous.</summary>
    private ValueTask<RateLimitDecision> TakeAsync(string policy, string key, RateLimitRule rule, bool consume, int permits)
    {
        var pending = DecideAsync(policy, key, rule, consume, permits);
        if (pending.IsCompletedSuccessfully)
        {
            return ValueTask.FromResult(Counted(pending.Result));
        }

        return AwaitAndCount(pending);

        static async ValueTask<RateLimitDecision> AwaitAndCount(ValueTask<RateLimitDecision> pending) => Counted(await pending);
    }

    private static RateLimitDecision Counted(RateLimitDecision decision)
    {
        if (!decision.Allowed)
        {
            Operations.SecurityMetrics.RateLimited(decision.Policy);
        }

        return decision;
    }

    private async ValueTask<RateLimitDecision> DecideAsync(string policy, string key, RateLimitRule rule, bool consume, int permits)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (shared is not null && !shared.Connection.RecentlyFailed)
        {
            var bucket = $"{policy}|{key}";
            SweepIdleBuckets(clock.GetTimestamp());
            // Limits under 200 a minute would lease one token at a time: no lease, one call per request (exact).
            var lease = rule.Permits >= 200 ? _leases.GetOrAdd(bucket, _ => new Lease()) : null;
            var wanted = permits;
            var refill = false;
            if (lease is not null)
            {
                lock (lease)
                {
                    if (TakeLeased(lease, permits, consume) is { } left)
                    {
                        return Decide(policy, rule, true, left);
                    }

                    // One refill per bucket at a time: concurrent callers pay their own call meanwhile, so a burst
                    // cannot multiply the lease.
                    refill = consume && !lease.Refilling;
                    lease.Refilling |= refill;
                    wanted = refill ? lease.NextSize(rule, permits, clock.GetTimestamp()) : permits;
                }
            }

            try
            {
                var (granted, tokens) = await shared.TakeAsync(bucket, rule, permits, wanted, consume);
                shared.Connection.Succeeded();
                double held = 0;
                if (lease is not null)
                {
                    lock (lease)
                    {
                        if (refill && granted >= permits)
                        {
                            lease.Refilled(granted - permits, tokens, clock.GetTimestamp() + (long)(LeaseLifetime.TotalSeconds * clock.TimestampFrequency));
                        }
                        else if (refill)
                        {
                            // Refused: nothing was leased, so the lease's clock does not start (nor its size grow).
                            lease.Refilling = false;
                        }

                        held = lease.Tokens;
                    }
                }

                return Decide(policy, rule, granted >= permits, tokens + held);
            }
            catch (Exception e) when (RedisConnection.IsFailure(e))
            {
                if (refill)
                {
                    lock (lease!)
                    {
                        lease.Refilling = false;
                    }
                }

                // One failure sends the next few seconds of calls straight to local buckets.
                shared.Connection.Failed(e);
            }
        }

        return TakeLocal(policy, key, rule, consume, permits);
    }

    /// <summary>
    /// Spends (or, for a peek, only counts) tokens this node leased from the shared bucket; returns what the lease
    /// and the shared bucket hold afterwards, or null when the lease holds too few (or lapsed). Call under the lease's lock.
    /// </summary>
    private double? TakeLeased(Lease lease, int permits, bool consume)
    {
        if (lease.Tokens > 0 && clock.GetTimestamp() >= lease.ExpiresAt)
        {
            // Lapsed with tokens left: the principal is slower than the lease assumed; the next one is smaller.
            lease.Tokens = 0;
            lease.Size = Math.Max(1, lease.Size / 2);
        }

        if (lease.Tokens < permits)
        {
            return null;
        }

        if (consume)
        {
            lease.Tokens -= permits;
        }

        return lease.Tokens + lease.RemoteTokens;
    }

    private RateLimitDecision TakeLocal(string policy, string key, RateLimitRule rule, bool consume, int permits)
    {
        var now = clock.GetTimestamp();
        SweepIdleBuckets(now);
        var bucket = _buckets.GetOrAdd($"{policy}|{key}", _ => new Bucket(rule.Permits, now));
        var perToken = rule.Window.TotalSeconds / rule.Permits;
        lock (bucket)
        {
            var elapsed = clock.GetElapsedTime(bucket.UpdatedAt, now).TotalSeconds;
            bucket.Tokens = Math.Min(rule.Permits, bucket.Tokens + (elapsed / perToken));
            bucket.UpdatedAt = now;
            var allowed = bucket.Tokens >= permits;
            if (allowed && consume)
            {
                bucket.Tokens -= permits;
            }

            return Decide(policy, rule, allowed, bucket.Tokens);
        }
    }

    /// <summary>The headers' numbers from a bucket's state, the same for both stores.</summary>
    private static RateLimitDecision Decide(string policy, RateLimitRule rule, bool allowed, double tokens)
    {
        var perToken = rule.Window.TotalSeconds / rule.Permits;
        // Seconds until the next token (when refused) or until the bucket is full again (when allowed).
        var reset = allowed
            ? (int)Math.Ceiling((rule.Permits - tokens) * perToken)
            : (int)Math.Ceiling((1 - tokens) * perToken);
        return new RateLimitDecision(allowed, policy, rule, (int)Math.Floor(tokens), Math.Max(0, reset));
    }

    /// <summary>Drops buckets idle long enough to be full again, so memory tracks active principals only.</summary>
    private void SweepIdleBuckets(long now)
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (clock.GetElapsedTime(last, now) < TimeSpan.FromMinutes(5) || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        foreach (var (key, bucket) in _buckets)
        {
            if (clock.GetElapsedTime(bucket.UpdatedAt, now) > TimeSpan.FromMinutes(10))
            {
                _buckets.TryRemove(key, out _);
            }
        }

        foreach (var (key, lease) in _leases)
        {
            if (now - lease.ExpiresAt > (long)(600 * clock.TimestampFrequency))
            {
                _leases.TryRemove(KeyValuePair.Create(key, lease));
            }
        }
    }

    /// <summary>Tokens one node took from a shared bucket ahead of use, and how many to take next time.</summary>
    private sealed class Lease
    {
        public double Tokens { get; set; }

        /// <summary>What the shared bucket held when this lease was taken (for the headers' "remaining").</summary>
        public double RemoteTokens { get; private set; }

        public long ExpiresAt { get; set; }

        public int Size { get; set; } = 1;

        public bool Refilling { get; set; }

        /// <summary>
        /// Tokens to ask for: twice the last lease if it was spent before it lapsed (a busy principal), capped at
        /// 1 % of the limit; never fewer than this call needs.
        /// </summary>
        public int NextSize(RateLimitRule rule, int permits, long now)
        {
            if (now < ExpiresAt)
            {
                Size = Math.Min(Size * 2, Math.Max(1, rule.Permits / 100));
            }

            return Math.Max(permits, Math.Min(Size, Math.Max(1, rule.Permits / 100)));
        }

        public void Refilled(int extra, double remote, long expiresAt)
        {
            Refilling = false;
            Tokens += extra;
            RemoteTokens = remote;
            ExpiresAt = expiresAt;
        }
    }

    private sealed class Bucket(double tokens, long updatedAt)
    {
        public double Tokens { get; set; } = tokens;
        public long UpdatedAt { get; set; } = updatedAt;
    }
}
