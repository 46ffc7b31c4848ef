namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// Waiting for something another thread or process brings about. The patience only bounds a failing test: a
/// passing one goes on as soon as the condition holds, however fast or slow the machine.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> every 10 ms; fails with <paramref name="failure"/> once <paramref name="patience"/> (30 s) has passed.</summary>
    public static async Task HoldsAsync(Func<bool> condition, string failure = "the condition never held", TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(10);
        }
    }
}
