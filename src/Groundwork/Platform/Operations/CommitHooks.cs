namespace Groundwork.Platform.Operations;

/// <summary>
/// Steps around the pipeline's commit. <see cref="BeforeCommit"/>: statements that run after the operation's
/// changes are saved and just before COMMIT, in the same transaction, and may still fail it (the balance updates
/// of a money movement go there, so the rows they lock stay locked for as short as possible).
/// <see cref="AfterCommit(System.Func{System.Threading.Tasks.Task})"/>: work that must wait until the transaction
/// has committed and finish before the caller is answered,
/// such as writing the new value through to the cache or dropping a cached status the change invalidates: done
/// earlier, a concurrent read could cache the old state again before the commit; done later, a client could read
/// the old value after its write was acknowledged. Scoped to the request; discarded when the transaction rolls back.
/// A hook that throws is logged and does not fail the request: its change is committed.
/// </summary>
public sealed class CommitHooks(ILogger<CommitHooks> logger)
{
    private readonly List<Func<Task>> _afterCommit = [];
    private readonly List<Func<CancellationToken, Task<Error?>>> _beforeCommit = [];

    /// <summary>Runs after SaveChanges, before COMMIT; an error rolls the whole operation back and is its answer.</summary>
    public void BeforeCommit(Func<CancellationToken, Task<Error?>> step) => _beforeCommit.Add(step);

    public void AfterCommit(Action action) => _afterCommit.Add(() =>
    {
        action();
        return Task.CompletedTask;
    });

    public void AfterCommit(Func<Task> action) => _afterCommit.Add(action);

    internal async Task<Error?> RunBeforeCommitAsync(CancellationToken cancellationToken)
    {
        var steps = _beforeCommit.ToArray();
        _beforeCommit.Clear();
        foreach (var step in steps)
        {
            if (await step(cancellationToken) is { } error)
            {
                return error;
            }
        }

        return null;
    }

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
        _afterCommit.Clear();
    }
}
