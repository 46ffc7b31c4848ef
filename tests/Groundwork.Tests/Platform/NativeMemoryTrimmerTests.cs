using System.Runtime.InteropServices;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Groundwork.Tests.Platform;

/// <summary>The trimmer hands native memory glibc kept after it was freed back to the system (ADR 0019).</summary>
public sealed class NativeMemoryTrimmerTests
{
    private const int BlockBytes = 1024;
    private const int Blocks = 48 * 1024;
    private const long FreedBytes = Blocks * (long)BlockBytes;

    [Fact]
    public void Trimming_returns_native_memory_freed_inside_an_arena()
    {
        // The service runs on Linux with glibc, and so does CI: elsewhere this fails rather than skips.
        Assert.True(OperatingSystem.IsLinux(), "this test checks the trim on Linux with glibc");
        var trimmer = Trimmer(new Dictionary<string, string?>());

        // Other tests host the app in this process, each with its own trimmer. A cycle in which one of them trimmed
        // between our free() and our own trim proves nothing about ours, so it is run again (a trim is rare enough
        // that a second or third cycle falls between two).
        for (var attempt = 1; ; attempt++)
        {
            var cycle = FreeThenTrim(trimmer);
            if (cycle.KeptByGlibc)
            {
                // Other tests allocate at the same time, so the check leaves half the freed size of slack.
                Assert.True(cycle.AfterFree - cycle.AfterTrim >= FreedBytes / 2,
                    $"resident anonymous memory went from {cycle.AfterFree / 1048576} MiB after freeing 48 MiB to {cycle.AfterTrim / 1048576} MiB after the trim");
                return;
            }

            Assert.True(attempt < 5, "in every cycle, the freed memory was gone before our trim ran");
        }
    }

    [Fact]
    public async Task Zero_turns_it_off()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var offClock = new WatchedClock();
        var off = Trimmer(new Dictionary<string, string?> { ["Groundwork:Runtime:TrimNativeMemoryEvery"] = "00:00:00" }, offClock);
        await off.StartAsync(cancellation);
        await off.ExecuteTask!.WaitAsync(TimeSpan.FromMinutes(1), cancellation);
        Assert.True(off.ExecuteTask.IsCompletedSuccessfully, "an interval of zero ends the trimmer by itself");
        Assert.False(offClock.TimerCreated.Task.IsCompleted, "a trimmer that is off set a timer");

        // By default it sets its timer and runs until the host stops it.
        var onClock = new WatchedClock();
        var on = Trimmer(new Dictionary<string, string?>(), onClock);
        await on.StartAsync(cancellation);
        await onClock.TimerCreated.Task.WaitAsync(TimeSpan.FromMinutes(1), cancellation);
        Assert.False(on.ExecuteTask!.IsCompleted, "the default trimmer ended by itself");
        await on.StopAsync(cancellation);
    }

    private static NativeMemoryTrimmer Trimmer(Dictionary<string, string?> values, TimeProvider? clock = null) =>
        new(GroundworkSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), environment: "Testing"),
            clock ?? TimeProvider.System, NullLogger<NativeMemoryTrimmer>.Instance);

    /// <summary>The system clock, telling when a timer was asked of it.</summary>
    private sealed class WatchedClock : TimeProvider
    {
        public TaskCompletionSource TimerCreated { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            TimerCreated.TrySetResult();
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }

    /// <summary>
    /// Allocates 48 MiB in 1 KiB blocks (small enough to come from a malloc arena, not mappings of their own), and a
    /// last block that stays, so the freed space is inside the arena rather than at its top, which free() returns
    /// itself. Frees the 48 MiB, then trims.
    /// </summary>
    private static Cycle FreeThenTrim(NativeMemoryTrimmer trimmer)
    {
        var payload = new byte[BlockBytes];
        Array.Fill(payload, (byte)0x5A);
        var blocks = new nint[Blocks];
        for (var i = 0; i < Blocks; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(BlockBytes);
            Marshal.Copy(payload, 0, blocks[i], BlockBytes);
        }

        var top = Marshal.AllocHGlobal(BlockBytes);
        try
        {
            var withBlocks = AnonymousResidentBytes();
            foreach (var block in blocks)
            {
                Marshal.FreeHGlobal(block);
            }

            var afterFree = AnonymousResidentBytes();
            Assert.True(trimmer.TryTrim());
            var afterTrim = AnonymousResidentBytes();
            return new Cycle(withBlocks, afterFree, afterTrim);
        }
        finally
        {
            Marshal.FreeHGlobal(top);
        }
    }

    /// <summary>Resident anonymous memory with the blocks, after freeing them, and after the trim.</summary>
    private readonly record struct Cycle(long WithBlocks, long AfterFree, long AfterTrim)
    {
        /// <summary>free() left the memory resident: no other trimmer got to it before ours.</summary>
        public bool KeptByGlibc => WithBlocks - AfterFree < FreedBytes / 4;
    }

    private static long AnonymousResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
