using System.Runtime.InteropServices;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// Hands native memory that glibc keeps after it was freed back to the operating system, every second.
/// </summary>
/// <remarks>
/// The JIT compiles with scratch memory from malloc and frees it afterwards. glibc keeps freed memory in its
/// per-thread arenas and returns only the free space at the top of an arena, so after each burst of compiling
/// (a new endpoint's first requests, tiering up under load) 15–20 MB stays resident that nothing uses. The
/// service's memory then creeps up with every feature exercised. <c>malloc_trim(0)</c> releases the free pages
/// inside every arena; it takes well under a millisecond here. Only glibc has it (musl and other platforms do not
/// keep memory this way): elsewhere the trimmer stops at its first call. ADR 0019.
/// </remarks>
public sealed class NativeMemoryTrimmer(TimeProvider clock, ILogger<NativeMemoryTrimmer> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!TryTrim())
            {
                return;
            }
        }
    }

    /// <summary>Releases glibc's free native memory; false where there is no glibc to ask.</summary>
    public bool TryTrim()
    {
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            logger.LogInformation("No glibc malloc_trim here ({Reason}); native memory is left to the allocator", e.GetType().Name);
            return false;
        }
    }

    // int malloc_trim(size_t pad): 1 if memory was released. "libc" resolves to libc.so.6 on glibc systems. A plain
    // DllImport (blittable arguments, no marshalling) rather than LibraryImport, which would need unsafe code on.
    [DllImport("libc", EntryPoint = "malloc_trim", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}
