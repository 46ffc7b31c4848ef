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
/// <c>Permits / Window</c>, so bursts up to the limit pass and the sustained rate is the limit.
/// This is the in-process store (one node); a Redis store with the same arithmetic shares limits across nodes.
/// </summary>
public sealed class RateLimiter(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private long _lastSweep;

    public RateLimitDecision TryAcquire(string policy, string key, RateLimitRule rule) => Take(policy, key, rule, consume: true);

    /// <summary>Takes <paramref name="permits"/> tokens at once, or none (a request that is several calls in one).</summary>
    public RateLimitDecision TryAcquire(string policy, string key, RateLimitRule rule, int permits) => Take(policy, key, rule, consume: true, permits);

    /// <summary>Whether a call would be allowed now, without taking a token (refuse early, count later).</summary>
    public RateLimitDecision Peek(string policy, string key, RateLimitRule rule) => Take(policy, key, rule, consume: false);

    private RateLimitDecision Take(string policy, string key, RateLimitRule rule, bool consume, int permits = 1)
    {
        ArgumentNullException.ThrowIfNull(rule);
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

            var remaining = (int)Math.Floor(bucket.Tokens);
            // Seconds until the next token (when refused) or until the bucket is full again (when allowed).
            var reset = allowed
                ? (int)Math.Ceiling((rule.Permits - bucket.Tokens) * perToken)
                : (int)Math.Ceiling((1 - bucket.Tokens) * perToken);
            return new RateLimitDecision(allowed, policy, rule, remaining, reset);
        }
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
    }

    private sealed class Bucket(double tokens, long updatedAt)
    {
        public double Tokens { get; set; } = tokens;
        public long UpdatedAt { get; set; } = updatedAt;
    }
}
