// Measures how long an acknowledged change takes to reach an SSE subscriber and a RabbitMQ consumer.
//   EventsLatency <base-url> <amqp-uri> <bearer-token> <user-id> <rate-per-second> <seconds>
// Renames the user at a steady rate; the time from the 200 answer (the commit) to the event's arrival on each
// channel is one sample. Prints p50/p90/p99/max per channel and how many events arrived.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

var (baseUrl, amqp, token, userId) = (args[0], args[1], args[2], args[3]);
var rate = int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
var seconds = int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture);
var clock = Stopwatch.StartNew();
var acked = new ConcurrentDictionary<string, double>();
var sse = new ConcurrentDictionary<string, double>();
var rabbit = new ConcurrentDictionary<string, double>();
var prefix = $"lat-{Guid.NewGuid():N}-"[..12];

string? NameOf(string json)
{
    using var doc = JsonDocument.Parse(json);
    return doc.RootElement.GetProperty("data").TryGetProperty("name", out var n) ? n.GetString() : null;
}

// RabbitMQ: a queue of our own for user.updated.
var factory = new ConnectionFactory { Uri = new Uri(amqp) };
await using var connection = await factory.CreateConnectionAsync();
await using var channel = await connection.CreateChannelAsync();
var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
await channel.QueueBindAsync(queue, "groundwork.events", "user.updated");
var consumer = new AsyncEventingBasicConsumer(channel);
consumer.ReceivedAsync += (_, d) =>
{
    var at = clock.Elapsed.TotalMilliseconds;
    if (NameOf(Encoding.UTF8.GetString(d.Body.Span)) is { } name && name.StartsWith(prefix, StringComparison.Ordinal))
    {
        rabbit.TryAdd(name, at);
    }

    return Task.CompletedTask;
};
await channel.BasicConsumeAsync(queue, autoAck: true, consumer);

// SSE.
using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = Timeout.InfiniteTimeSpan };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
using var stop = new CancellationTokenSource();
var stream = await http.GetStreamAsync("/api/v1/events?types=user.updated");
var reader = Task.Run(async () =>
{
    using var lines = new StreamReader(stream);
    try
    {
        while (await lines.ReadLineAsync(stop.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var at = clock.Elapsed.TotalMilliseconds;
                if (NameOf(line[6..]) is { } name && name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    sse.TryAdd(name, at);
                }
            }
        }
    }
    catch (OperationCanceledException)
    {
    }
});

// Steady writes: one rename every 1/rate s, each on its own task so a slow answer does not slow the schedule.
var total = rate * seconds;
var writes = new List<Task>();
var interval = 1000.0 / rate;
for (var i = 0; i < total; i++)
{
    var due = i * interval;
    var wait = due - clock.Elapsed.TotalMilliseconds;
    if (wait > 0)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(wait));
    }

    var name = prefix + i;
    writes.Add(Task.Run(async () =>
    {
        using var response = await http.PatchAsJsonAsync($"/api/v1/users/{userId}", new { name });
        if (response.IsSuccessStatusCode)
        {
            acked[name] = clock.Elapsed.TotalMilliseconds;
        }
    }));
}

await Task.WhenAll(writes);
var deadline = clock.Elapsed + TimeSpan.FromSeconds(10);
while ((sse.Count < acked.Count || rabbit.Count < acked.Count) && clock.Elapsed < deadline)
{
    await Task.Delay(50);
}

await stop.CancelAsync();

void Report(string channelName, ConcurrentDictionary<string, double> arrived)
{
    var samples = acked.Where(a => arrived.ContainsKey(a.Key)).Select(a => Math.Max(0, arrived[a.Key] - a.Value)).Order().ToList();
    double P(double q) => samples.Count == 0 ? double.NaN : samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
    Console.WriteLine($"{channelName,-9} {arrived.Count,6}/{acked.Count} arrived   p50 {P(0.50),7:0.0} ms   p90 {P(0.90),7:0.0} ms   p99 {P(0.99),7:0.0} ms   max {P(1.0),7:0.0} ms");
}

Console.WriteLine($"{acked.Count} changes acknowledged at {rate}/s for {seconds} s (commit = the 200 answer; latency = arrival - commit)");
Report("SSE", sse);
Report("RabbitMQ", rabbit);
