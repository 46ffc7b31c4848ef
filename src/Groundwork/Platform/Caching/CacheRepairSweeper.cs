using System.Collections.Concurrent;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Idempotency;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Platform.Caching;

/// <summary>
/// Deletes this node's <see cref="CacheRepair"/> records once their writes reached Redis (in batches, every
/// second), and applies the records other writers left behind: any older than <c>Groundwork:Cache:RepairAfter</c>,
/// and a replayed request's own at once (ADR 0024). Runs only with Redis.
/// </summary>
public sealed class CacheRepairSweeper(IServiceScopeFactory scopes, EntityCache cache, GroundworkSettings settings, ILogger<CacheRepairSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private const int Batch = 500;
    private const int MaxBatchesPerSweep = 20;

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
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await DeleteCompletedAsync(stoppingToken);
                    // While this node cannot use Redis, a repair could not be applied: the records wait.
                    if (cache.CanRepair)
                    {
                        await SweepAsync(settings.CacheRepairAfter, stoppingToken);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Cache repairs failed; will retry");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped (or disposed after a failed start, without a stop: then the host would log this as a failure).
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
        while (!_completed.IsEmpty)
        {
            var ids = new List<Guid>(Batch);
            while (ids.Count < Batch && _completed.TryDequeue(out var id))
            {
                ids.Add(id);
            }

            // A write Redis could not take is remembered by this node only: until it is applied, the records stay, so
            // that if this node dies first, another repairs those keys. Checked after taking the ids: a record is
            // queued only after its failed write was remembered, so none of these can have slipped past.
            if (cache.PendingResync > 0)
            {
                foreach (var id in ids)
                {
                    _completed.Enqueue(id);
                }

                return;
            }

            Interlocked.Add(ref _waiting, -ids.Count);
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            // Not retried on failure: records left behind are repaired by the sweep (extra misses, nothing stale).
            await db.CacheRepairs.Where(r => ids.Contains(r.Id)).ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Applies and deletes the records older than <paramref name="age"/> (their writers died), up to
    /// <see cref="MaxBatchesPerSweep"/> batches: a backlog (a long Redis outage) drains over several passes, and this
    /// node's own completed records are deleted between them rather than aging into repairs. Returns how many.
    /// </summary>
    internal async Task<int> SweepAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        var swept = 0;
        try
        {
            for (var batch = 0; batch < MaxBatchesPerSweep; batch++)
            {
                var records = await SweepBatchAsync(age, cancellationToken);
                swept += records;
                if (records < Batch)
                {
                    break;
                }
            }
        }
        finally
        {
            if (swept > 0)
            {
                logger.LogWarning("Repaired the cache entries of {Count} writes whose node did not finish writing them through (it stopped or lost Redis)", swept);
            }
        }

        return swept;
    }

    private async Task<int> SweepBatchAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        // The writer's clock against this node's: skew between nodes shifts when a record counts as left behind.
        var cutoff = DateTime.UtcNow - age;
        var left = db.CacheRepairs.Where(r => r.CreatedAt < cutoff);
        // The usual answer, and the cheapest: nothing was left behind (no transaction, no lock).
        if (!await left.AnyAsync(cancellationToken))
        {
            return 0;
        }

        List<CacheRepair> records;
        if (db.Database.IsNpgsql())
        {
            // Nodes sweeping together take different rows; a record is deleted only with its repair applied (a
            // failure rolls back, and the record is tried again).
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            records = await db.CacheRepairs
                // No ORDER BY: the scan stops at the first rows that qualify (the table has no index on the time,
                // and in a backlog nearly every row qualifies).
                .FromSql($"SELECT * FROM cache_repairs WHERE created_at < {cutoff} LIMIT {Batch} FOR UPDATE SKIP LOCKED")
                .AsNoTracking()
                .ToListAsync(cancellationToken);
            await ApplyAndDeleteAsync(db, records, cancellationToken);
            await transaction.CommitAsync(CancellationToken.None);
        }
        else
        {
            // SQLite has no row locks to skip, and its transactions lock the whole file: none here. Two nodes may
            // apply the same record; a repair applied twice costs nothing more.
            // Ordered by the key, which its index gives for free (and EF warns about a limit without an order).
            records = await left.AsNoTracking().OrderBy(r => r.Id).Take(Batch).ToListAsync(cancellationToken);
            await ApplyAndDeleteAsync(db, records, cancellationToken);
        }

        return records.Count;
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
        if (records.Count == 0)
        {
            return;
        }

        try
        {
            await ApplyAndDeleteAsync(db, records, cancellationToken);
        }
        catch (Exception e) when (Redis.RedisConnection.IsFailure(e))
        {
            // The replay still answers (a Redis outage fails no request); the record stays for the sweep, and while
            // Redis fails, reads go to the database.
            logger.LogWarning("Could not repair the cache entries of a replayed request ({Reason}); left for the sweep", e.Message);
        }
    }

    private async Task ApplyAndDeleteAsync(GroundworkDbContext db, List<CacheRepair> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        await cache.RepairAsync(records.SelectMany(r => r.Keys.Split('\n')).Distinct(StringComparer.Ordinal).ToList());
        var ids = records.Select(r => r.Id).ToList();
        await db.CacheRepairs.Where(r => ids.Contains(r.Id)).ExecuteDeleteAsync(cancellationToken);
    }
}
