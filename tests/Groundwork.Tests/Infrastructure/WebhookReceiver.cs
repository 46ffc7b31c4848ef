using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Groundwork.Tests.Infrastructure;

/// <summary>One POST the receiver got: when, its headers and body.</summary>
public sealed record ReceivedWebhook(DateTimeOffset At, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A webhook receiver on a free loopback port, as a customer would run one: it verifies signatures like the
/// documented example (docs/api/webhooks.md) and can be told to fail the next N requests.
/// </summary>
public sealed class WebhookReceiver : IAsyncLifetime
{
    private WebApplication? _app;
    private int _failuresLeft;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Requests are recorded, then left hanging until the receiver is disposed (a receiver that never answers).</summary>
    public bool Hang { get; init; }

    public int Port { get; } = PostgresServer.FreePort();

    public string Url => $"http://127.0.0.1:{Port}/hooks";

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>The next <paramref name="count"/> requests are answered 500.</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref _failuresLeft, count);

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Url.Replace("/hooks", "", StringComparison.Ordinal));
        _app = builder.Build();
        _app.MapPost("/hooks", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            Received.Enqueue(new ReceivedWebhook(DateTimeOffset.UtcNow, http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
            if (Hang)
            {
                await _release.Task;
            }

            return Interlocked.Decrement(ref _failuresLeft) >= 0 ? Results.StatusCode(500) : Results.Ok();
        });
        await _app.StartAsync();
    }

    public async Task<List<ReceivedWebhook>> WaitForAsync(Func<ReceivedWebhook, bool> match, int count = 1)
    {
        var deadline = DateTime.UtcNow + SseClient.Patience;
        while (true)
        {
            var found = Received.Where(match).ToList();
            if (found.Count >= count)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, $"only {found.Count} of {count} webhook requests arrived within {SseClient.Patience.TotalSeconds} s");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The documented receiver check: the header has a <c>t</c> within five minutes and a <c>v1</c> equal to
    /// HMAC-SHA256(secret, "t.body"), compared in constant time.
    /// </summary>
    public static bool Verify(ReceivedWebhook request, string secret, TimeSpan? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Headers.TryGetValue("Groundwork-Signature", out var header))
        {
            return false;
        }

        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToList();
        if (parts.FirstOrDefault(p => p[0] == "t") is not { } t || !long.TryParse(t[1], NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp)
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp) > (tolerance ?? TimeSpan.FromMinutes(5)).TotalSeconds)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{request.Body}"));
        return parts.Where(p => p[0] == "v1").Any(p =>
        {
            try
            {
                return CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(p[1]));
            }
            catch (FormatException)
            {
                return false;
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
