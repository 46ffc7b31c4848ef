using System.Collections.Concurrent;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Idempotency;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Platform.Caching;

/// <summary>
/// Closes the cache's crash window (ADR 0024): a writer records the keys it will write through in its own
/// transaction (<see cref="CacheRepairJournal"/>) and this service deletes the record once those writes reached
/// Redis, in batches, every second. A record still there after <c>Groundwork:Cache:RepairAfter</c> belongs to a
/// writer that died between its commit and its cache writes: any node applies it (<see cref="EntityCache.RepairAsync"/>)
/// and deletes it. A replay of the operation by its idempotency key applies the operation's record at once
/// (<see cref="RepairReplayAsync"/>), so the retry that reports success is never followed by a stale read.
/// Runs only with Redis.
/// </summary>
public sealed class CacheRepairs(IServiceScopeFactory scopes, EntityCache cache, GroundworkSettings settings, ILogger<CacheRepairs> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private const int Batch = 500;

    /// <summary>Completed records waiting for their delete. Past this many (the database unreachable), later ones are left to the sweep.</summary>
    private const int MaxWaiting = 100_000;

    private readonly ConcurrentQueue<Guid> _completed = new();
    private int _waiting;

    /// <summary>The record's writes reached the cache (or were remembered for resync): delete it soon.</summary>
    internal void Completed(Guid id)
    {
        if (Interlocked.Increment(ref _waiting) > MaxWaiting)
        {
            // Left for the sweep, which repairs entries that are already right: a few extra misses, nothing stale.
            Interlocked.Decrement(ref _waiting);
            return;
        }

        _completed.Enqueue(id);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!cache.Shared)
        {
            return;
        }

        using var background = Hosting.BackgroundWork.Begin("cache-repairs");
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await DeleteCompletedAsync(stoppingToken);
                await SweepAsync(settings.CacheRepairAfter, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Cache repairs failed; will retry");
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!cache.Shared)
        {
            return;
        }

        try
        {
            // Graceful shutdown: what completed is deleted now, not repaired by another node later.
            await DeleteCompletedAsync(cancellationToken);
        }
        catch (Exception e)
        {
            logger.LogInformation(e, "Completed cache repair records were left for the sweep at shutdown");
        }
    }

    /// <summary>Deletes the records whose writes are done, unless some of this node's writes still wait for Redis.</summary>
    internal async Task DeleteCompletedAsync(CancellationToken cancellationToken)
    {
        // A write Redis could not take is remembered by this node only: until it is applied, the records stay, so
        // that if this node dies first, another repairs those keys.
        while (cache.PendingResync == 0 && !_completed.IsEmpty)
        {
            var ids = new List<Guid>(Batch);
            while (ids.Count < Batch && _completed.TryDequeue(out var id))
            {
                ids.Add(id);
            }

            Interlocked.Add(ref _waiting, -ids.Count);
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            // Not retried on failure: records left behind are repaired by the sweep (extra misses, nothing stale).
            await db.CacheRepairs.Where(r => ids.Contains(r.Id)).ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <summary>Applies and deletes every record older than <paramref name="age"/> (their writers died). Returns how many.</summary>
    internal async Task<int> SweepAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        var swept = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            var cutoff = DateTime.UtcNow - age;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // On PostgreSQL, nodes sweeping together take different rows; a record is deleted only with its repair
            // applied (a failure rolls back, and the record is tried again).
            var records = db.Database.IsNpgsql()
                ? await db.CacheRepairs
                    .FromSql($"SELECT * FROM cache_repairs WHERE created_at < {cutoff} ORDER BY created_at LIMIT {Batch} FOR UPDATE SKIP LOCKED")
                    .AsNoTracking()
                    .ToListAsync(cancellationToken)
                : await db.CacheRepairs.AsNoTracking().Where(r => r.CreatedAt < cutoff).OrderBy(r => r.CreatedAt).Take(Batch).ToListAsync(cancellationToken);
            if (records.Count == 0)
            {
                return swept;
            }

            logger.LogWarning("Repairing the cache entries of {Count} writes whose node did not finish writing them through (it stopped or lost Redis)", records.Count);
            await ApplyAndDeleteAsync(db, records, cancellationToken);
            await transaction.CommitAsync(CancellationToken.None);
            swept += records.Count;
            if (records.Count < Batch)
            {
                return swept;
            }
        }
    }

    /// <summary>
    /// An idempotent replay is about to report the operation's success: if the writer's record is still there (it may
    /// have died before its cache writes), the entries are repaired first.
    /// </summary>
    internal async Task RepairReplayAsync(GroundworkDbContext db, IdempotencyClaim claim, CancellationToken cancellationToken)
    {
        if (!cache.Shared)
        {
            return;
        }

        var key = CacheRepair.ClaimOf(claim);
        var records = await db.CacheRepairs.AsNoTracking().Where(r => r.Claim == key).ToListAsync(cancellationToken);
        if (records.Count > 0)
        {
            await ApplyAndDeleteAsync(db, records, cancellationToken);
        }
    }

    private async Task ApplyAndDeleteAsync(GroundworkDbContext db, List<CacheRepair> records, CancellationToken cancellationToken)
    {
        var keys = records.SelectMany(r => r.Keys.Split('\n')).Distinct(StringComparer.Ordinal).ToList();
        await cache.RepairAsync(keys);
        var ids = records.Select(r => r.Id).ToList();
        await db.CacheRepairs.Where(r => ids.Contains(r.Id)).ExecuteDeleteAsync(cancellationToken);
    }
}
