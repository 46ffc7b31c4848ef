using System.Data.Common;
using System.Text;

namespace Groundwork.Platform.Operations;

/// <summary>
/// Work that must wait until the pipeline's transaction has committed and finish before the caller is answered,
/// such as writing the new value through to the cache or dropping a cached status the change invalidates: done
/// earlier, a concurrent read could cache the old state again before the commit; done later, a client could read
/// the old value after its write was acknowledged. Scoped to the request; discarded when the transaction rolls back.
/// A hook that throws is logged and does not fail the request: its change is committed.
/// Also holds what must be let go the moment the transaction ends, committed or not (<see cref="UntilTransactionEnds"/>),
/// and the last writes of the transaction, sent after its SaveChanges and right before its COMMIT (<see cref="BeforeCommit"/>).
/// </summary>
public sealed class CommitHooks(ILogger<CommitHooks> logger) : IDisposable
{
    private readonly List<Func<CancellationToken, Task<Error?>>> _beforeCommit = [];
    private readonly List<Action<DbCommand, StringBuilder>> _riders = [];
    private readonly List<Func<Task>> _afterCommit = [];
    private readonly List<IDisposable> _untilEnd = [];

    /// <summary>
    /// Holds <paramref name="lease"/> until the pipeline's transaction commits or rolls back (at the latest, until
    /// the request's scope ends), such as a movement's turn in the <c>AccountQueue</c>.
    /// </summary>
    public void UntilTransactionEnds(IDisposable lease) => _untilEnd.Add(lease);

    /// <summary>
    /// A write that must be the transaction's last: the pipeline runs it after the operation's SaveChanges and
    /// right before COMMIT, in the order given. An error rolls the whole operation back and becomes its answer.
    /// Money movements use it so the rows they lock stay locked for as few round trips as possible
    /// (docs/adr/0020-money-moves-at-the-commit.md). A write sends one command, and the first one appends the
    /// pipeline's riders to it (<see cref="AppendRiders"/>); the pipeline refuses to commit riders left behind.
    /// </summary>
    public void BeforeCommit(Func<CancellationToken, Task<Error?>> write) => _beforeCommit.Add(write);

    /// <summary>Whether a <see cref="BeforeCommit"/> write is registered (its command can carry <see cref="AddRider"/> statements).</summary>
    internal bool HasBeforeCommit => _beforeCommit.Count > 0;

    /// <summary>Whether rider statements are still waiting for a command to carry them.</summary>
    internal bool HasRiders => _riders.Count > 0;

    /// <summary>
    /// A statement (with its parameters) that needs no answer and may ride in the command of the first
    /// <see cref="BeforeCommit"/> write, such as the idempotency record's response: one round trip fewer.
    /// </summary>
    internal void AddRider(Action<DbCommand, StringBuilder> append) => _riders.Add(append);

    /// <summary>
    /// Appends the rider statements to <paramref name="command"/> (whose SQL is being built in
    /// <paramref name="sql"/>), once: a <see cref="BeforeCommit"/> write that sends a command calls this. Any
    /// statements it appends must come after the ones whose results the write reads.
    /// </summary>
    public void AppendRiders(DbCommand command, StringBuilder sql)
    {
        foreach (var append in _riders)
        {
            append(command, sql);
        }

        _riders.Clear();
    }

    /// <summary>Runs the <see cref="BeforeCommit"/> writes; the first error stops them and is returned.</summary>
    internal async Task<Error?> RunBeforeCommitAsync(CancellationToken cancellationToken)
    {
        var writes = _beforeCommit.ToArray();
        _beforeCommit.Clear();
        foreach (var write in writes)
        {
            if (await write(cancellationToken) is { } refused)
            {
                return refused;
            }
        }

        return null;
    }

    /// <summary>The transaction has committed or rolled back: let go of what it held.</summary>
    internal void EndTransaction()
    {
        for (var i = _untilEnd.Count - 1; i >= 0; i--)
        {
            _untilEnd[i].Dispose();
        }

        _untilEnd.Clear();
    }

    public void Dispose() => EndTransaction();

    public void AfterCommit(Action action) => _afterCommit.Add(() =>
    {
        action();
        return Task.CompletedTask;
    });

    public void AfterCommit(Func<Task> action) => _afterCommit.Add(action);

    internal async Task RunAfterCommitAsync()
    {
        var actions = _afterCommit.ToArray();
        _afterCommit.Clear();
        foreach (var action in actions)
        {
            try
            {
                await action();
            }
            catch (Exception e)
            {
                logger.LogError(e, "An after-commit step failed; the change itself is committed");
            }
        }
    }

    internal void Discard()
    {
        _beforeCommit.Clear();
        _riders.Clear();
        _afterCommit.Clear();
        EndTransaction();
    }
}
