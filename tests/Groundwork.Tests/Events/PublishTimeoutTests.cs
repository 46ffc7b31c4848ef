using Groundwork.Platform.Messaging;
using Groundwork.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Events;

/// <summary>
/// A broker that takes events but never confirms them (as RabbitMQ does while a memory or disk alarm blocks its
/// publishers) until the test lets it. The relay must give up on each batch after
/// <c>Groundwork:Messaging:PublishTimeout</c>, so its database transaction does not stay open for as long as the broker
/// is stuck, and must lose nothing: once the broker confirms again, every event goes out.
/// </summary>
public sealed class PublishTimeoutTests(PublishTimeoutTests.StuckBrokerApp app) : IClassFixture<PublishTimeoutTests.StuckBrokerApp>
{
    public sealed class StuckBroker : IEventBroker
    {
        private volatile bool _confirms;
        private int _givenUp;

        public string Name => "stuck";

        public int GivenUp => Volatile.Read(ref _givenUp);

        public List<Guid> Confirmed { get; } = [];

        public void Recover() => _confirms = true;

        public async Task PublishAsync(IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken)
        {
            if (!_confirms)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _givenUp);
                    throw;
                }
            }

            lock (Confirmed)
            {
                Confirmed.AddRange(events.Select(e => e.Id));
            }
        }
    }

    public sealed class StuckBrokerApp() : SqliteAppWith(new Dictionary<string, string?> { ["Groundwork:Messaging:PublishTimeout"] = "00:00:01" })
    {
        public StuckBroker Broker { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IEventBroker>(Broker));
        }
    }

    [Fact]
    public async Task A_broker_that_stops_confirming_gets_each_batch_back_after_the_timeout_and_the_event_once_it_recovers()
    {
        var user = await app.ActorAsync();
        await user.RenameAsync("Renamed while the broker is stuck");
        var eventId = await app.Db(db => db.OutboxMessages.Where(m => m.Subject == user.Id && m.Type == "user.updated").Select(m => m.Id).SingleAsync());

        // The relay gives up on the batch again and again (without the timeout it would wait on the first forever),
        // and marks nothing published.
        await Cli.UntilAsync(() => Task.FromResult(app.Broker.GivenUp >= 2), TimeSpan.FromSeconds(60));
        Assert.True(app.Broker.GivenUp >= 2, "the relay never gave up on an unconfirmed batch");
        Assert.Null(await app.Db(db => db.OutboxMessages.Where(m => m.Id == eventId).Select(m => m.PublishedAt).SingleAsync()));

        app.Broker.Recover();
        await Cli.UntilAsync(async () => await app.Db(db => db.OutboxMessages.Where(m => m.Id == eventId).Select(m => m.PublishedAt).SingleAsync()) is not null, TimeSpan.FromSeconds(60));
        Assert.NotNull(await app.Db(db => db.OutboxMessages.Where(m => m.Id == eventId).Select(m => m.PublishedAt).SingleAsync()));
        lock (app.Broker.Confirmed)
        {
            Assert.Contains(eventId, app.Broker.Confirmed);
        }
    }
}
