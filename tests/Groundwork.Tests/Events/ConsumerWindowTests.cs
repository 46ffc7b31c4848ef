using Groundwork.Platform.Configuration;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Realtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Groundwork.Tests.Events;

/// <summary>
/// Under load the durable consumers pass at most once per <c>Groundwork:Messaging:ConsumerBatchWindow</c>, not at
/// the relay's pace. A clock whose time stands still makes the wait after a pass exactly the window, and records
/// it: no real time is measured.
/// </summary>
public sealed class ConsumerWindowTests
{
    [Theory]
    [InlineData(null, 250)]
    [InlineData("00:00:01.500", 1_500)]
    public async Task After_a_pass_the_consumers_wait_their_own_window(string? configured, int expectedMilliseconds)
    {
        var cancellation = TestContext.Current.CancellationToken;
        var values = new Dictionary<string, string?> { ["Groundwork:Messaging:BatchWindow"] = "00:00:00.020" };
        if (configured is not null)
        {
            values["Groundwork:Messaging:ConsumerBatchWindow"] = configured;
        }

        var settings = GroundworkSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), environment: "Testing");
        await using var services = new ServiceCollection().BuildServiceProvider();
        var hub = new EventHub();
        var clock = new StillClock();
        var runner = new ConsumerRunner(services.GetRequiredService<IServiceScopeFactory>(), hub, settings, clock, NullLogger<ConsumerRunner>.Instance);
        await runner.StartAsync(cancellation);
        try
        {
            // A pass (with no consumer registered it has nothing to do), then an event wakes the runner, which must
            // wait out the rest of the window since that pass began: all of it, as the clock has not moved.
            while (hub.SubscriberCount == 0)
            {
                await Task.Delay(10, cancellation);
            }

            hub.Publish([new EventEnvelope(Guid.CreateVersion7(), "user.updated", DateTime.UtcNow, Guid.NewGuid(), 1, "{}", EventAudience.Everyone)]);
            var wait = await clock.FirstTimer.Task.WaitAsync(TimeSpan.FromMinutes(1), cancellation);
            Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), wait);
        }
        finally
        {
            await runner.StopAsync(cancellation);
        }
    }

    private sealed class StillClock : TimeProvider
    {
        private readonly long _now = System.GetTimestamp();

        public TaskCompletionSource<TimeSpan> FirstTimer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override long GetTimestamp() => _now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            FirstTimer.TrySetResult(dueTime);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
