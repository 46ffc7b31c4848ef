using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Usage: AllocationSites <trace.nettrace> [frames to list] [type name to keep] [stack depth]
// GCAllocationTick fires about every 100 KB a thread allocates, naming the object that crossed the mark, so the shares
// are estimates (small objects allocated right after large ones are over-counted). Frames are inclusive: a frame's
// share is what was allocated under it, up to the given depth from the allocation (0 = the whole stack).
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: AllocationSites <trace.nettrace> [frames] [type] [depth]");
    return 2;
}

var frames = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 40;
var onlyType = args.Length > 2 && args[2].Length > 0 ? args[2] : null;
var depth = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 0;

using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>(StringComparer.Ordinal);
var byFrame = new Dictionary<string, long>(StringComparer.Ordinal);
long total = 0;
foreach (var traceEvent in log.Events)
{
    if (traceEvent is not GCAllocationTickTraceData tick || (onlyType is not null && tick.TypeName != onlyType))
    {
        continue;
    }

    total += tick.AllocationAmount64;
    var type = tick.TypeName ?? "?";
    byType[type] = byType.GetValueOrDefault(type) + tick.AllocationAmount64;
    var seen = new HashSet<string>(StringComparer.Ordinal);
    var level = 0;
    for (var frame = traceEvent.CallStack(); frame is not null && (depth == 0 || level++ < depth); frame = frame.Caller)
    {
        var name = frame.CodeAddress.FullMethodName;
        if (!string.IsNullOrEmpty(name) && seen.Add(name))
        {
            byFrame[name] = byFrame.GetValueOrDefault(name) + tick.AllocationAmount64;
        }
    }
}

if (total == 0)
{
    Console.WriteLine("no GCAllocationTick events (collect with --providers Microsoft-Windows-DotNETRuntime:0x1:5)");
    return 1;
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sampled {total / 1048576.0:F1} MB"));
foreach (var (name, bytes) in byType.OrderByDescending(e => e.Value).Take(25))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{100.0 * bytes / total,5:F1} % {name}"));
}

Console.WriteLine("-- frames (inclusive)");
foreach (var (name, bytes) in byFrame.OrderByDescending(e => e.Value).Take(frames))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{100.0 * bytes / total,5:F1} % {(name.Length > 160 ? name[..160] : name)}"));
}

return 0;
