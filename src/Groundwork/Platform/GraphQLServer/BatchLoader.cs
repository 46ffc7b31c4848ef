using GraphQL.DataLoader;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// A per-request batch loader: fields ask for keys one at a time, and the first field that needs its value
/// fetches every key asked for so far in one query. GraphQL.NET's execution strategy resolves all pending
/// <see cref="IDataLoaderResult"/>s of a level after it has walked the level, which is what makes the batch.
/// Execution is serial (see <see cref="GraphQLExecution"/>), so no locking is needed.
/// </summary>
public sealed class BatchLoader<TKey, TValue>(Func<IReadOnlyCollection<TKey>, CancellationToken, Task<IReadOnlyDictionary<TKey, TValue>>> fetch)
    where TKey : notnull
{
    private readonly Dictionary<TKey, TValue?> _loaded = [];
    private readonly Dictionary<TKey, Exception> _failed = [];
    private readonly HashSet<TKey> _pending = [];

    /// <summary>The number of fetches run so far (one per batch).</summary>
    public int Fetches { get; private set; }

    public IDataLoaderResult<TValue?> Load(TKey key)
    {
        if (!_loaded.ContainsKey(key))
        {
            _pending.Add(key);
        }

        return new Pending(this, key);
    }

    private async Task<TValue?> GetAsync(TKey key, CancellationToken cancellationToken)
    {
        if (!_loaded.ContainsKey(key) && !_failed.ContainsKey(key))
        {
            var keys = _pending.ToArray();
            _pending.Clear();
            Fetches++;
            try
            {
                var found = await fetch(keys, cancellationToken);
                foreach (var k in keys)
                {
                    _loaded[k] = found.TryGetValue(k, out var v) ? v : default;
                }
            }
            catch (Exception e)
            {
                // Every field waiting on this batch gets the same error, without fetching again.
                foreach (var k in keys)
                {
                    _failed[k] = e;
                }
            }
        }

        if (_failed.TryGetValue(key, out var error))
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        return _loaded.GetValueOrDefault(key);
    }

    private sealed class Pending(BatchLoader<TKey, TValue> loader, TKey key) : IDataLoaderResult<TValue?>
    {
        public Task<TValue?> GetResultAsync(CancellationToken cancellationToken = default) => loader.GetAsync(key, cancellationToken);

        async Task<object?> IDataLoaderResult.GetResultAsync(CancellationToken cancellationToken) => await GetResultAsync(cancellationToken);
    }
}
