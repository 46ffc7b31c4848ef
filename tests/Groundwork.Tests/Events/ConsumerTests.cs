using System.Collections.Concurrent;
using System.Net.Http.Json;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Events;

/// <summary>
/// A test consumer of user.updated events. Its effect is a row written in the consumer's transaction (a
/// dead_letters row under another consumer name, unique per event, so a second effect would fail the pass). Names
/// starting "flaky" fail on their first try (a crash mid-batch), names starting "poison" always fail.
/// </summary>
public sealed class FlakyConsumer(GroundworkDbContext db) : IEventConsumer
{
    public const string EffectConsumer = "test-effect";

    public static ConcurrentDictionary<Guid, int> Tries { get; } = new();

    public string Name => "test-flaky";

    public bool Wants(string eventType) => eventType == "user.updated";

    public Task HandleAsync(EventEnvelope e, CancellationToken cancellationToken)
    {
        var tries = Tries.AddOrUpdate(e.Id, 1, (_, n) => n + 1);
        var name = System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("name").GetString()!;
        if (name.StartsWith("poison", StringComparison.Ordinal) || (name.StartsWith("flaky", StringComparison.Ordinal) && tries == 1))
        {
            throw new InvalidOperationException($"cannot handle {name}");
        }

        db.Add(new DeadLetter { Consumer = EffectConsumer, EventId = e.Id, Sequence = e.Sequence, EventType = e.Type, Error = name, CreatedAt = DateTime.UtcNow });
        return Task.CompletedTask;
    }
}

public sealed class FlakyConsumerApp : GroundworkApp
{
    public override Provider Provider => Provider.Sqlite;

    protected override Task<string> CreateDatabaseAsync(string folder) => Task.FromResult($"Data Source={Path.Combine(folder, "gw.db")}");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddScoped<IEventConsumer, FlakyConsumer>());
    }
}

public sealed class ConsumerTests(FlakyConsumerApp app) : IClassFixture<FlakyConsumerApp>
{
    [Fact]
    public async Task A_crash_mid_batch_repeats_the_batch_with_each_effect_once_and_a_poison_event_is_set_aside_for_admins()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        string[] names = ["ok 1", "flaky 2", "ok 3", "poison 4", "ok 5"];
        foreach (var name in names)
        {
            await (await user.Client().PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { name })).AssertStatus(200);
        }

        var events = await app.Db(db => db.OutboxMessages.Where(m => m.Subject == user.Id && m.Type == "user.updated").OrderBy(m => m.Number).Select(m => m.Id).ToListAsync());
        Assert.Equal(names.Length, events.Count);
        var deadline = DateTime.UtcNow + SseClient.Patience;
        while (await app.Db(db => db.Set<DeadLetter>().CountAsync(d => d.Consumer == "test-flaky")) == 0
               || await app.Db(db => db.Set<DeadLetter>().CountAsync(d => d.Consumer == FlakyConsumer.EffectConsumer && events.Contains(d.EventId))) < 4)
        {
            Assert.True(DateTime.UtcNow < deadline, "the consumer never got past the poison event");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        var effects = await app.Db(db => db.Set<DeadLetter>().Where(d => d.Consumer == FlakyConsumer.EffectConsumer && events.Contains(d.EventId)).ToListAsync());
        Assert.Equal(["ok 1", "flaky 2", "ok 3", "ok 5"], effects.OrderBy(d => d.Sequence).Select(d => d.Error));
        // Handed over again after its failed pass (with whatever else that batch held), and still one effect each.
        Assert.True(FlakyConsumer.Tries[events[1]] >= 2);
        Assert.Equal(ConsumerRunner.MaxAttempts, FlakyConsumer.Tries[events[3]]);

        var poison = await app.Db(db => db.Set<DeadLetter>().SingleAsync(d => d.Consumer == "test-flaky"));
        Assert.Equal((events[3], "user.updated", ConsumerRunner.MaxAttempts), (poison.EventId, poison.EventType, poison.Attempts));
        Assert.Contains("cannot handle poison 4", poison.Error, StringComparison.Ordinal);

        var listed = await (await admin.Client().GetAsync("/api/v1/admin/dead-letters")).AssertStatus(200);
        Assert.Contains(listed["data"]!.AsArray(), d => d!["eventId"]!.GetValue<string>() == events[3].ToString() && d["consumer"]!.GetValue<string>() == "test-flaky");
        await (await user.Client().GetAsync("/api/v1/admin/dead-letters")).AssertError(403, "AUTHORIZATION_ERROR");
    }

    [Fact]
    public async Task A_consumer_behind_a_pruned_range_resumes_at_the_next_kept_event()
    {
        // Events far past the consumer's checkpoint, as if everything between had been pruned before it ran.
        var latest = await app.Db(db => db.OutboxMessages.MaxAsync(m => m.Sequence)) ?? 0;
        var far = new OutboxMessage
        {
            Type = "user.updated",
            Subject = Guid.NewGuid(),
            OccurredAt = DateTime.UtcNow,
            Data = "{\"name\":\"far ahead\"}",
            Sequence = latest + 1_000,
            PublishedAt = DateTime.UtcNow,
        };
        await app.Db(async db =>
        {
            db.OutboxMessages.Add(far);
            return await db.SaveChangesAsync();
        });

        var deadline = DateTime.UtcNow + SseClient.Patience;
        while (!await app.Db(db => db.Set<DeadLetter>().AnyAsync(d => d.Consumer == FlakyConsumer.EffectConsumer && d.EventId == far.Id)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the consumer never got past the gap");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.True(await app.Db(db => db.Set<ConsumerCheckpoint>().AnyAsync(c => c.Consumer == "test-flaky" && c.Sequence >= latest + 1_000)));
    }
}
