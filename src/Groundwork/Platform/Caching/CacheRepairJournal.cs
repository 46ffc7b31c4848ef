using System.Data.Common;
using System.Text;
using Groundwork.Platform.Idempotency;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;

namespace Groundwork.Platform.Caching;

/// <summary>
/// The cache keys this request's transaction will write through after its commit (<see cref="CacheWrites"/> notes
/// them), recorded by the pipeline in the transaction itself as a <see cref="CacheRepair"/>, so that a node dying
/// between the commit and those writes leaves a record another node repairs from (ADR 0024). Scoped to the
/// request. Without Redis it writes nothing and only checks that every key was declared in time.
/// </summary>
public sealed class CacheRepairJournal(EntityCache cache, CacheRepairSweeper repairs)
{
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private bool _staged;
    private Guid? _recorded;

    /// <summary>A key the transaction will write after its commit (kept with or without Redis, so the check below runs in every test).</summary>
    internal void Note(string key)
    {
        if (_keys.Add(key) && _staged)
        {
            // Noted after the record was staged, the key would not be repaired: a write whose value is known only at
            // the commit point must declare its keys when it is staged (CacheWrites.Declare).
            throw new InvalidOperationException($"Cache key {key} was noted after the transaction's repair record was staged");
        }
    }

    /// <summary>
    /// Stages the record with the transaction's last writes: in the before-commit command when there is one (a rider),
    /// else in the SaveChanges batch. No round trip of its own either way. Call it once, before SaveChanges.
    /// </summary>
    internal void Stage(GroundworkDbContext db, CommitHooks hooks, IdempotencyClaim? claim)
    {
        _staged = true;
        if (_keys.Count == 0 || !cache.Shared)
        {
            // Without Redis the cache lives and dies with this process: nothing to repair.
            return;
        }

        var record = new CacheRepair
        {
            CreatedAt = DateTime.UtcNow,
            Keys = string.Join('\n', _keys),
            Claim = claim is null ? null : CacheRepair.ClaimOf(claim),
        };
        if (hooks.HasBeforeCommit)
        {
            hooks.AddRider((command, sql) => AppendInsert(command, sql, record));
        }
        else
        {
            db.CacheRepairs.Add(record);
        }

        _recorded = record.Id;
    }

    /// <summary>The after-commit writes have run: the record can go (in a batch, soon).</summary>
    internal void Completed()
    {
        if (_recorded is { } id)
        {
            repairs.Completed(id);
        }

        Reset();
    }

    /// <summary>The transaction rolled back (or is run again): nothing was recorded.</summary>
    internal void Reset()
    {
        _keys.Clear();
        _staged = false;
        _recorded = null;
    }

    private static void AppendInsert(DbCommand command, StringBuilder sql, CacheRepair record)
    {
        sql.Append("INSERT INTO cache_repairs (id, created_at, keys, claim) VALUES (@repair_id, @repair_at, @repair_keys, @repair_claim);\n");
        command.AddParameter("repair_id", record.Id);
        command.AddParameter("repair_at", record.CreatedAt);
        command.AddParameter("repair_keys", record.Keys);
        command.AddParameter("repair_claim", (object?)record.Claim ?? DBNull.Value);
    }
}
