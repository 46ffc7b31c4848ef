namespace Groundwork.Platform.Operations;

/// <summary>
/// Work that must wait until the pipeline's transaction has committed, such as dropping a cached answer the
/// change invalidates: done earlier, a concurrent read could cache the old state again before the commit.
/// Scoped to the request; discarded when the transaction rolls back.
/// </summary>
public sealed class CommitHooks
{
    private readonly List<Action> _afterCommit = [];

    public void AfterCommit(Action action) => _afterCommit.Add(action);

    internal void RunAfterCommit()
    {
        var actions = _afterCommit.ToArray();
        _afterCommit.Clear();
        foreach (var action in actions)
        {
            action();
        }
    }

    internal void Discard() => _afterCommit.Clear();
}
