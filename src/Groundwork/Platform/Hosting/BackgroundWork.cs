namespace Groundwork.Platform.Hosting;

/// <summary>
/// Marks the current async flow as the service's own background work (the outbox relay, the event-hub watchdog),
/// so diagnostics can tell its database statements from those of requests (the statement-count tests do).
/// </summary>
public static class BackgroundWork
{
    private static readonly AsyncLocal<string?> Name = new();

    /// <summary>The background job running on this flow, or null for request work.</summary>
    public static string? Current => Name.Value;

    public static IDisposable Begin(string name)
    {
        var previous = Name.Value;
        Name.Value = name;
        return new Restore(previous);
    }

    private sealed class Restore(string? previous) : IDisposable
    {
        public void Dispose() => Name.Value = previous;
    }
}
