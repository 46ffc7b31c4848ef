using System.Runtime.InteropServices;
using Groundwork.Platform.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Groundwork.Tests.Platform;

/// <summary>The trimmer hands native memory glibc kept after it was freed back to the system (ADR 0019).</summary>
public sealed class NativeMemoryTrimmerTests
{
    private const int BlockBytes = 1024;
    private const int Blocks = 48 * 1024;

    [Fact]
    public void Trimming_returns_native_memory_freed_inside_an_arena()
    {
        Assert.True(OperatingSystem.IsLinux(), "the service runs on Linux with glibc; this test checks that it trims there");
        var trimmer = new NativeMemoryTrimmer(TimeProvider.System, NullLogger<NativeMemoryTrimmer>.Instance);

        // 48 MiB in 1 KiB blocks: small enough to come from a malloc arena rather than their own mappings. A block
        // allocated last stays, so the freed space is inside the arena, not at its top (which free() returns itself).
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

            Assert.True(trimmer.TryTrim());
            var afterTrim = AnonymousResidentBytes();

            // Other tests allocate in this process at the same time, so the check leaves half the blocks' size of slack.
            Assert.True(withBlocks - afterTrim >= Blocks * (long)BlockBytes / 2,
                $"resident anonymous memory went from {withBlocks / 1048576} MiB to {afterTrim / 1048576} MiB after freeing and trimming 48 MiB");
        }
        finally
        {
            Marshal.FreeHGlobal(top);
        }
    }

    private static long AnonymousResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
