using System.Runtime;
using System.Runtime.InteropServices;
using Groundwork.Platform.Configuration;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// Hands native memory that glibc keeps after it was freed back to the operating system, once a second while the
/// JIT is compiling (<c>Groundwork:Runtime:TrimNativeMemoryEvery</c>; zero turns it off).
/// </summary>
/// <remarks>
/// The JIT compiles with scratch memory from malloc and frees it afterwards. glibc keeps freed memory in its
/// per-thread arenas and returns only the free space at the top of an arena, so each burst of compiling (a new
/// endpoint's first requests, tiering up under load) leaves memory resident that nothing uses, and the service's
/// RSS crept up with every feature exercised. <c>malloc_trim(0)</c> releases the free pages inside every arena,
/// holding each arena's lock while it walks it, so it runs only when methods were compiled since the last tick: a
/// warmed-up node stops paying for it. Only Linux is asked; where its C library has no <c>malloc_trim</c> (musl),
/// the first call fails, is logged, and the trimmer stops. ADR 0019.
/// </remarks>
public sealed class NativeMemoryTrimmer(GroundworkSettings settings, TimeProvider clock, ILogger<NativeMemoryTrimmer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!OperatingSystem.IsLinux() || settings.TrimNativeMemoryEvery <= TimeSpan.Zero)
        {
            return;
        }

        var compiled = JitInfo.GetCompiledMethodCount();
        using var timer = new PeriodicTimer(settings.TrimNativeMemoryEvery, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = JitInfo.GetCompiledMethodCount();
                if (now == compiled)
                {
                    continue;
                }

                compiled = now;
                if (!TryTrim())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped. When the host fails to start (a port in use) it is disposed without being stopped, and an
            // unobserved cancellation here was logged as "BackgroundService failed" at Critical level.
        }
    }

    /// <summary>Releases glibc's free native memory; false where the C library has no <c>malloc_trim</c>.</summary>
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

    // int malloc_trim(size_t pad); its result (whether any page was released) is of no use here. The runtime maps
    // "libc" to libc.so.6 on glibc. A plain DllImport (blittable arguments, no marshalling) rather than
    // LibraryImport, which would need unsafe code on for the whole project.
    [DllImport("libc", EntryPoint = "malloc_trim", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}
