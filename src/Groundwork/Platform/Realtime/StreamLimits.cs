using System.Collections.Concurrent;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Realtime;

/// <summary>
/// Counts this node's open event streams per user (all their sessions and API keys together), so one person cannot hold an
/// unbounded number of connections, queues and heartbeats (<c>Groundwork:Events:MaxStreamsPerUser</c>).
/// </summary>
public sealed class StreamLimits(GroundworkSettings settings)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public int Max => settings.MaxStreamsPerUser;

    /// <summary>A slot for one more stream, or null when the principal already holds <see cref="Max"/>.</summary>
    public IDisposable? TryOpen(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var key = KeyOf(caller);
        while (true)
        {
            var current = _open.GetOrAdd(key, 0);
            if (current >= Max)
            {
                return null;
            }

            if (_open.TryUpdate(key, current + 1, current))
            {
                return new Slot(this, key);
            }
        }
    }

    public int OpenFor(Caller caller) => _open.TryGetValue(KeyOf(caller), out var n) ? n : 0;

    /// <summary>Per user, however many API keys they hold (each key is the same person).</summary>
    private static string KeyOf(Caller caller) => caller.UserId is { } user ? $"user:{user}" : caller.PrincipalKey;

    private void Close(string key)
    {
        while (true)
        {
            var current = _open[key];
            if (current <= 1 ? _open.TryRemove(new KeyValuePair<string, int>(key, current)) : _open.TryUpdate(key, current - 1, current))
            {
                return;
            }
        }
    }

    private sealed class Slot(StreamLimits limits, string key) : IDisposable
    {
        private int _closed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                limits.Close(key);
            }
        }
    }
}
