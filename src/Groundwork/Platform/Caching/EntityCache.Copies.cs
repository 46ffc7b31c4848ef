using System.Globalization;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace Groundwork.Platform.Caching;

/// <summary>
/// With Redis, each node also keeps copies of the entries it read, and answers from a copy only with proof that
/// it has heard of every write acknowledged before the read began (docs/adr/0022-node-local-copies.md):
/// <list type="bullet">
/// <item>A write (not a fill) announces its key on <c>gw:inv</c> in its compare-and-set script, whether or not it
/// stored its version, and its writer answers only <see cref="InvalidationWindow"/> after Redis replied. Every node
/// drops its copy of each key it hears.</item>
/// <item>Redis hands each subscriber its messages in the order it ran the commands that sent them, and each node
/// publishes heartbeats on the same channel and records when it sent each: hearing one sent at h means every
/// announcement Redis ran before h has been heard.</item>
/// <item>A read that begins at r uses a copy at once if the node has heard a heartbeat sent at or after r minus the
/// window (a write acknowledged before r was announced before that). Otherwise it waits for the next heartbeat,
/// sent after it began, which every read waiting at that moment shares.</item>
/// <item>A copy is kept from a Redis read only if nothing was heard while that read ran (it could be the value an
/// announcement just replaced), and every copy is dropped when the subscription fails or comes back; none is
/// served or kept again until a heartbeat sent after that is heard.</item>
/// <item>Every announcement is numbered by a counter in Redis, and every heartbeat carries the last number given
/// out before it: a gap (messages lost however the subscription dropped, a counter lost with Redis's data) drops
/// every copy too, and so does a message without a number.</item>
/// </list>
/// On a Redis cluster, messages from different shards reach a subscriber in no guaranteed order: no copies, and
/// writers do not wait.
/// </summary>
public sealed partial class EntityCache
{
    /// <summary>
    /// How long a writer waits, after Redis ran its write's script, before answering; and so how old the last
    /// heartbeat heard may be for a read to use a copy at once (see the type's remarks).
    /// </summary>
    internal static readonly TimeSpan InvalidationWindow = TimeSpan.FromMilliseconds(5);

    private static readonly TimeSpan CopyLifetime = TimeSpan.FromMinutes(10);

    /// <summary>A heartbeat not heard by then is presumed lost: its readers go to Redis, and the next one is sent.</summary>
    private static readonly TimeSpan HeartbeatLost = TimeSpan.FromMilliseconds(250);

    /// <summary>Heartbeat stamps and the deafness mark are this process's real clock, never a test's.</summary>
    private static readonly TimeProvider RealTime = TimeProvider.System;

    private readonly MemoryCache _copies = new(new MemoryCacheOptions { SizeLimit = MaxLocalEntries });
    private readonly string _node = Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private readonly Lock _beatLock = new();
    private volatile bool _copiesOn;
    private long _lastOwnBeatSentAt;
    private long _deafUntil;

    // Bumped by every invalidation heard and every drop: a copy read from Redis is kept only if it did not move
    // during that read (KeepCopy).
    private long _epoch;

    // The last number heard on the channel (0 before the first), and the unnumbered echo of that message, while it
    // is still to come. Written only by the subscription's callback, which runs one message at a time (CopiesState
    // reads the number for tests).
    private long _lastNumberHeard;
    private string? _expectedEcho;
    private long _lastUnnumberedLog;

    // The heartbeat in flight (sent, not yet heard) and the one readers who came after it wait for (not yet sent).
    private Beat? _inFlight;
    private Beat? _next;

    /// <summary>Whether this node keeps copies (subscribed to announcements, not on a cluster). Tests.</summary>
    internal bool CopiesOn => _copiesOn;

    /// <summary>How many copies this node holds, and the last number it heard on the channel. Tests.</summary>
    internal (long Copies, long LastHeard) CopiesState => (_copies.Count, Volatile.Read(ref _lastNumberHeard));

    private sealed class Beat
    {
        /// <summary>Unguessable, so that only this node's own heartbeat can match its record.</summary>
        public string Nonce { get; } = Guid.NewGuid().ToString("N");

        public long SentAt { get; set; }

        public TaskCompletionSource<bool> Heard { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void StartCopies(Redis.RedisConnection connection) =>
        connection.WhenConnected(multiplexer => _ = SubscribeAsync(multiplexer));

    private async Task SubscribeAsync(IConnectionMultiplexer multiplexer)
    {
        multiplexer.ConnectionFailed += OnConnectionChanged;
        multiplexer.ConnectionRestored += OnConnectionChanged;
        _stoppingToken.Register(() =>
        {
            multiplexer.ConnectionFailed -= OnConnectionChanged;
            multiplexer.ConnectionRestored -= OnConnectionChanged;
        });
        while (!_stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Unknown until connected (servers report their type only then).
                if (_shared!.Connection.IsCluster is not { } cluster)
                {
                    throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
                }

                if (cluster)
                {
                    return;
                }

                var subscriber = multiplexer.GetSubscriber();
                // The queue hands messages over one at a time, in the order Redis sent them. (The client adds a
                // configured channel prefix here; RedisEntityStore's scripts add it to the channel they publish on.)
                var queue = await subscriber.SubscribeAsync(RedisChannel.Literal(RedisEntityStore.InvalidationChannel));
                queue.OnMessage(message => OnChannelMessage(message.Message));
                _stoppingToken.Register(() => _ = queue.UnsubscribeAsync());
                _copiesOn = !_stoppingToken.IsCancellationRequested;
                return;
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                // Not connected yet: copies stay off until the subscription exists.
                await Task.Delay(TimeSpan.FromMilliseconds(500), RealTime, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// The subscription failed (messages sent meanwhile are lost to this node) or came back (some were lost, and
    /// more may be until the channel is subscribed again): every copy is dropped, and none is served or kept until
    /// this node hears a heartbeat it sent after this moment, which proves the subscription works again. Either
    /// event alone suffices, in whichever order they arrive.
    /// </summary>
    private void GoDeaf()
    {
        Interlocked.Exchange(ref _deafUntil, RealTime.GetTimestamp());
        DropAllCopies();
    }

    // Whatever the connection's type: with RESP3 the subscription may share the interactive connection.
    private void OnConnectionChanged(object? sender, ConnectionFailedEventArgs e) => GoDeaf();

    private bool Deaf => Interlocked.Read(ref _deafUntil) != 0;

    private void OnChannelMessage(RedisValue message)
    {
        if (_stoppingToken.IsCancellationRequested)
        {
            return;
        }

        var text = (string?)message ?? "";
        if (text.StartsWith("n ", StringComparison.Ordinal))
        {
            // "n {number} {message}": the message, numbered. The same message follows alone, for earlier releases.
            var rest = text.AsSpan(2);
            var space = rest.IndexOf(' ');
            var numbered = long.TryParse(rest[..Math.Max(space, 0)], NumberStyles.None, CultureInfo.InvariantCulture, out var number);
            if (!numbered || _expectedEcho is not null || number != _lastNumberHeard + 1)
            {
                // Messages were lost: numbers skipped, or the echo of the last numbered one. (Or this is the first
                // number heard, and nothing says none were lost before it.)
                DropAllCopies();
            }

            _lastNumberHeard = numbered ? number : 0;
            _expectedEcho = numbered ? rest[(space + 1)..].ToString() : null;
            Apply(_expectedEcho ?? "");
            return;
        }

        if (text.StartsWith("h ", StringComparison.Ordinal) && text.Split(' ') is [_, var node, var nonce, var count])
        {
            // A heartbeat carries the last number Redis had given out when it ran: every numbered message up to that
            // one reached this node before it, unless some were lost.
            var counted = long.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var last);
            if (!counted || _expectedEcho is not null || last != _lastNumberHeard)
            {
                DropAllCopies();
            }

            _expectedEcho = null;
            _lastNumberHeard = counted ? last : 0;
            if (counted && node == _node)
            {
                HeardHeartbeat(nonce);
            }

            return;
        }

        // Alone: the echo of the last numbered message, or a message sent without a number (an operator's
        // PUBLISH {channel} c, a node of an earlier release during a rolling deploy, a script that could not use the
        // counter). The loss of such a message would show no gap, so hearing one means others like it may have
        // been lost: whatever it names, no copy is trusted after it.
        var echo = _expectedEcho == text;
        _expectedEcho = null;
        Apply(text);
        if (!echo)
        {
            DropAllCopies();
            LogUnnumbered();
        }
    }

    /// <summary>Drops what an invalidation names: one key's copy, or all of them (<c>c</c>, or anything unknown).</summary>
    private void Apply(string invalidation)
    {
        if (invalidation.StartsWith("i ", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _epoch);
            _copies.Remove(invalidation[2..]);
        }
        else
        {
            DropAllCopies();
        }
    }

    /// <summary>
    /// One of this node's heartbeats came back. Its send time is taken from this node's own record of the
    /// heartbeat in flight, never from the message, so a message that merely looks like ours proves nothing.
    /// </summary>
    private void HeardHeartbeat(string nonce)
    {
        Beat? heard = null;
        lock (_beatLock)
        {
            if (_inFlight is { } beat && beat.Nonce == nonce)
            {
                heard = beat;
                _inFlight = null;
            }
        }

        if (heard is null)
        {
            return;
        }

        var deafUntil = Interlocked.Read(ref _deafUntil);
        if (deafUntil != 0 && heard.SentAt >= deafUntil && Interlocked.CompareExchange(ref _deafUntil, 0, deafUntil) == deafUntil)
        {
            // Subscribed again (this heartbeat came through it): start afresh.
            DropAllCopies();
        }

        Volatile.Write(ref _lastOwnBeatSentAt, heard.SentAt);
        lock (_beatLock)
        {
            if (_inFlight is null)
            {
                SendNextBeat();
            }
        }

        heard.Heard.TrySetResult(true);
    }

    private void DropAllCopies()
    {
        Interlocked.Increment(ref _epoch);
        _copies.Clear();
    }

    private void LogUnnumbered()
    {
        var now = RealTime.GetTimestamp();
        if (_lastUnnumberedLog == 0 || RealTime.GetElapsedTime(_lastUnnumberedLog, now) > OutageLogInterval)
        {
            _lastUnnumberedLog = now;
            _logger.LogWarning("A message on {Channel} came without its number, and this node dropped its copies of cached entities. Expected during a rolling deploy from a release before the numbering, or after an operator's PUBLISH; otherwise the counter {Counter} cannot be used (an ACL, a value that is not a number, Redis out of memory), and every write drops every node's copies until it can",
                _shared!.Channel, RedisEntityStore.SequenceKey);
        }
    }

    /// <summary>
    /// The copy of <paramref name="key"/> once it is proven fresh; null when there is no copy (or it was dropped
    /// meanwhile), the node cannot prove freshness (deaf, or the heartbeat was lost), or copies are off. The caller
    /// then reads Redis. With the last heartbeat heard sent at age a before this read began and the window W:
    /// a ≤ W/2, serve; W/2 &lt; a ≤ W, serve and send the next heartbeat (so the next reads find one fresh);
    /// a &gt; W, wait (at most 250 ms) for a heartbeat sent after this read began.
    /// </summary>
    private async ValueTask<Entry?> TryCopyAsync(string key)
    {
        if (!_copiesOn)
        {
            return null;
        }

        if (Deaf)
        {
            // Keep heartbeats going while deaf: hearing one is how the node learns it is subscribed again.
            _ = NextBeatAsync();
            return null;
        }

        if (!HasCopy(key, out _))
        {
            return null;
        }

        // Fresh enough already: a heartbeat sent less than a window before this read was heard, so was every
        // announcement of a write acknowledged before it (its writer waited the window after announcing).
        var start = RealTime.GetTimestamp();
        var heard = Volatile.Read(ref _lastOwnBeatSentAt);
        var age = heard == 0 ? TimeSpan.MaxValue : RealTime.GetElapsedTime(heard, start);
        if (age > InvalidationWindow / 2)
        {
            // Keep them coming while reads want copies, so that the next reads find one fresh.
            var next = NextBeatAsync();
            if (age > InvalidationWindow && !await HeardInTimeAsync(next))
            {
                return null;
            }
        }

        return !Deaf && HasCopy(key, out var copy) ? copy : null;
    }

    /// <summary>
    /// After a write's script ran in Redis (whether it stored this version or found a newer one, whose writer
    /// announced it just before): waits out the window in which every node hears what Redis ran until now. On a
    /// cluster no node keeps copies, so there is nothing to wait for.
    /// </summary>
    private async Task AfterSharedWriteAsync(long repliedAt)
    {
        if (_shared!.Connection.IsCluster == true)
        {
            return;
        }

        // Task.Delay may end up to a timer tick early: wait again until the window has surely passed.
        while (RealTime.GetElapsedTime(repliedAt) is var waited && waited < InvalidationWindow)
        {
            await Task.Delay(InvalidationWindow - waited + TimeSpan.FromMilliseconds(1), RealTime, CancellationToken.None);
        }
    }

    /// <summary>Whether the heartbeat was heard; false when it was presumed lost or not heard in time.</summary>
    private static async Task<bool> HeardInTimeAsync(Task<bool> heard)
    {
        // A lost heartbeat is only declared lost by the next read; a read must not wait for one that never comes.
        try
        {
            return await heard.WaitAsync(HeartbeatLost, RealTime);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>True once a heartbeat sent after this call has been heard; false when it was presumed lost.</summary>
    private Task<bool> NextBeatAsync()
    {
        Beat? lost = null;
        Task<bool> heard;
        lock (_beatLock)
        {
            // Join the heartbeat not yet sent, or open it; send it now if none is in flight.
            _next ??= new Beat();
            heard = _next.Heard.Task;
            if (_inFlight is { } inFlight && RealTime.GetElapsedTime(inFlight.SentAt) > HeartbeatLost)
            {
                lost = inFlight;
                _inFlight = null;
            }

            if (_inFlight is null)
            {
                SendNextBeat();
            }
        }

        if (lost is not null)
        {
            // Lost without any connection event (a half-open socket, say): other messages may be lost too. Deaf
            // until a later heartbeat comes back, so reads go straight to Redis instead of waiting on copies.
            GoDeaf();
            lost.Heard.TrySetResult(false);
        }

        return heard;
    }

    /// <summary>Sends the waiting heartbeat, if any (under the lock).</summary>
    private void SendNextBeat()
    {
        if (_next is not { } beat || !_copiesOn)
        {
            return;
        }

        _next = null;
        _inFlight = beat;
        beat.SentAt = RealTime.GetTimestamp();
        try
        {
            _shared!.HeartbeatAndForget(_node, beat.Nonce);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            // Never heard: presumed lost after HeartbeatLost, and its readers go to Redis then.
        }
    }

    private bool HasCopy(string key, out Entry? entry)
    {
        entry = _copies.TryGetValue(key, out Copy? copy) && copy!.Confirmed ? copy.Entry : null;
        return entry is not null;
    }

    /// <summary>Keeps a copy of what Redis answered, unless something was heard since <paramref name="epoch"/>.</summary>
    private void KeepCopy(string key, Entry entry, long epoch)
    {
        if (!_copiesOn || Deaf)
        {
            return;
        }

        var copy = new Copy(entry);
        _copies.Set(key, copy, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = CopyLifetime });
        if (Interlocked.Read(ref _epoch) != epoch)
        {
            // Heard something while reading (or while storing): this value may be the one it replaced.
            _copies.Remove(key);
            return;
        }

        // Served only from now on: between the store and the check above, it was not yet known to be current.
        copy.Confirmed = true;
    }

    private sealed class Copy(Entry entry)
    {
        public Entry Entry { get; } = entry;

        private volatile bool _confirmed;

        public bool Confirmed
        {
            get => _confirmed;
            set => _confirmed = value;
        }
    }
}
