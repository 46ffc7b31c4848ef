namespace Groundwork.Platform.Hosting;

/// <summary>
/// Things to release when the current DI scope ends, for resources a resolver takes whose end it does not see
/// (a GraphQL subscription's stream slot when the operation is cancelled before anything subscribed).
/// </summary>
public sealed class ScopeDisposables : IDisposable
{
    private readonly List<IDisposable> _items = [];
    private readonly Lock _gate = new();

    public void Add(IDisposable item)
    {
        lock (_gate)
        {
            _items.Add(item);
        }
    }

    public void Dispose()
    {
        List<IDisposable> items;
        lock (_gate)
        {
            items = [.. _items];
            _items.Clear();
        }

        foreach (var item in items)
        {
            item.Dispose();
        }
    }
}
