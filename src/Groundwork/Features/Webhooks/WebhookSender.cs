using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Text;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Webhooks;

/// <summary>
/// Sends due deliveries: a POST of the event JSON with <c>Groundwork-Event-Id</c>, <c>Groundwork-Event-Type</c> and
/// <c>Groundwork-Signature</c>. A 2xx answer within <c>Groundwork:Webhooks:Timeout</c> succeeds; anything else is
/// logged as an attempt and retried after <c>FirstRetry</c>, doubling up to an hour, ±20 % jitter, until
/// <c>RetryFor</c> (24 h) has passed, then marked failed. Nodes claim deliveries for a minute before sending, so two
/// nodes never send the same one at once, and a crashed node's claims lapse. Each delivery is sent and recorded on
/// its own (at most 16 at once, 4 per webhook), so a receiver that hangs slows only its own deliveries.
/// </summary>
public sealed class WebhookSender(IServiceScopeFactory scopes, IHttpClientFactory http, GroundworkSettings settings, TimeProvider clock, ILogger<WebhookSender> logger)
    : BackgroundService
{
    public const string HttpClientName = "webhooks";
    private static readonly TimeSpan ClaimFor = TimeSpan.FromMinutes(1);
    private static readonly Meter Meter = new("Groundwork.Webhooks");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("groundwork.webhooks.failed_attempts", unit: "{attempt}", description: "Webhook delivery attempts that did not get a 2xx");

    /// <summary>Deliveries in flight at once on this node, and per webhook: a dead receiver can hold at most a few slots.</summary>
    public const int MaxInFlight = 16;
    public const int MaxInFlightPerWebhook = 4;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, int> _perWebhook = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, bool> _running = new();
    private int _inFlight;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var background = Platform.Hosting.BackgroundWork.Begin("webhook-sender");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var free = MaxInFlight - Volatile.Read(ref _inFlight);
                var started = free > 0 ? await StartDueAsync(free, stoppingToken) : 0;
                if (started == 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), clock, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Webhook sending paused; retrying");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        // Sends under way finish (each is bounded by the attempt timeout) so their outcome is recorded.
        await Task.WhenAll(_running.Keys);
    }

    /// <summary>Claims up to <paramref name="slots"/> due deliveries and sends each on its own; returns how many started.</summary>
    private async Task<int> StartDueAsync(int slots, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var due = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now && (d.LockedUntil == null || d.LockedUntil < now))
            .OrderBy(d => d.NextAttemptAt)
            .Select(d => new { d.Id, d.WebhookId })
            .Take(slots * 4)
            .ToListAsync(cancellationToken);
        var started = 0;
        foreach (var candidate in due)
        {
            if (started == slots)
            {
                break;
            }

            if (_perWebhook.GetValueOrDefault(candidate.WebhookId) >= MaxInFlightPerWebhook)
            {
                continue; // that receiver already has its share; others go first
            }

            // A conditional update: whichever node changes the row owns the delivery for the next minute.
            if (await db.WebhookDeliveries
                    .Where(d => d.Id == candidate.Id && d.Status == DeliveryStatus.Pending && (d.LockedUntil == null || d.LockedUntil < now))
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.LockedUntil, now + ClaimFor), cancellationToken) != 1)
            {
                continue;
            }

            Interlocked.Increment(ref _inFlight);
            _perWebhook.AddOrUpdate(candidate.WebhookId, 1, (_, n) => n + 1);
            var send = SendOneAsync(candidate.Id, candidate.WebhookId, cancellationToken);
            _running[send] = true;
            _ = send.ContinueWith(done => _running.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            started++;
        }

        return started;
    }

    /// <summary>Sends one claimed delivery and records the attempt; nothing that goes wrong here touches any other delivery.</summary>
    private async Task SendOneAsync(Guid deliveryId, Guid webhookId, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            var delivery = await db.WebhookDeliveries.FirstOrDefaultAsync(d => d.Id == deliveryId, CancellationToken.None);
            if (delivery is null)
            {
                return; // deleted with its webhook meanwhile
            }

            var webhook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == webhookId, CancellationToken.None);
            Outcome outcome;
            try
            {
                outcome = await SendAsync(delivery, webhook, scope.ServiceProvider.GetRequiredService<WebhookSecrets>(), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A secret that no longer decrypts, anything unexpected: this delivery's attempt failed, visibly.
                logger.LogWarning(e, "Webhook delivery {Delivery} could not be sent", deliveryId);
                outcome = new Outcome(clock.GetUtcNow().UtcDateTime, null, $"Could not be sent ({e.GetType().Name})", 0);
            }

            Record(db, delivery, outcome);
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateException)
            {
                // The webhook was deleted while this was in flight: nothing left to record it on. Anything else
                // is a real failure: the claim lapses and the delivery is tried again.
                if (await db.WebhookDeliveries.AsNoTracking().AnyAsync(d => d.Id == deliveryId, CancellationToken.None))
                {
                    throw;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not record webhook delivery {Delivery}; its claim lapses and it is tried again", deliveryId);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _perWebhook.AddOrUpdate(webhookId, 0, (_, n) => Math.Max(0, n - 1));
        }
    }

    private sealed record Outcome(DateTime At, int? StatusCode, string? Error, int DurationMs)
    {
        public bool Succeeded => StatusCode is >= 200 and < 300;
    }

    private async Task<Outcome> SendAsync(WebhookDelivery delivery, Webhook? webhook, WebhookSecrets secrets, CancellationToken cancellationToken)
    {
        var started = clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        if (webhook is null || !webhook.Active)
        {
            return new Outcome(started.UtcDateTime, null, "The webhook is inactive", 0);
        }

        try
        {
            var timestamp = started.ToUnixTimeSeconds();
            var signing = new List<string> { secrets.Unprotect(webhook.ProtectedSecret) };
            if (webhook.ProtectedPreviousSecret is { } previous && webhook.PreviousSecretExpiresAt > started.UtcDateTime)
            {
                signing.Add(secrets.Unprotect(previous));
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Groundwork-Event-Id", delivery.EventId.ToString());
            request.Headers.Add("Groundwork-Event-Type", delivery.EventType);
            request.Headers.Add("Groundwork-Signature", WebhookSecrets.Signature(timestamp, delivery.Payload, signing));
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Groundwork-Webhooks", "1"));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(settings.Webhooks.AttemptTimeout);
            // Only the status matters; the body is never read (a receiver cannot make us buffer anything).
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return new Outcome(started.UtcDateTime, (int)response.StatusCode, null, (int)watch.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Outcome(started.UtcDateTime, null, $"No answer within {settings.Webhooks.AttemptTimeout.TotalSeconds:0} s", (int)watch.ElapsedMilliseconds);
        }
        catch (HttpRequestException e)
        {
            var reason = e.Message.Length > 300 ? e.Message[..300] : e.Message;
            return new Outcome(started.UtcDateTime, null, reason, (int)watch.ElapsedMilliseconds);
        }
    }

    private void Record(GroundworkDbContext db, WebhookDelivery delivery, Outcome outcome)
    {
        db.WebhookAttempts.Add(new WebhookAttempt
        {
            DeliveryId = delivery.Id,
            AttemptedAt = outcome.At,
            StatusCode = outcome.StatusCode,
            Error = outcome.Error,
            DurationMs = outcome.DurationMs,
        });
        delivery.Attempts++;
        delivery.LastStatusCode = outcome.StatusCode;
        delivery.LastError = outcome.Error;
        delivery.LockedUntil = null;
        if (outcome.Succeeded)
        {
            delivery.Status = DeliveryStatus.Succeeded;
            delivery.CompletedAt = outcome.At;
            return;
        }

        Failures.Add(1);
        var delay = Backoff(delivery.Attempts);
        if (outcome.At + delay - delivery.RetryFrom > settings.Webhooks.RetryWindow)
        {
            delivery.Status = DeliveryStatus.Failed;
            delivery.CompletedAt = outcome.At;
            logger.LogWarning("Webhook delivery {Delivery} of event {EventId} failed for good after {Attempts} attempts", delivery.Id, delivery.EventId, delivery.Attempts);
        }
        else
        {
            delivery.NextAttemptAt = outcome.At + delay;
        }
    }

    /// <summary>FirstRetry × 2^(attempts-1), at most an hour, ±20 % so failed receivers are not retried in lockstep.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var first = settings.Webhooks.FirstRetryDelay.TotalMilliseconds;
        var plain = Math.Min(first * Math.Pow(2, Math.Min(attempts - 1, 30)), TimeSpan.FromHours(1).TotalMilliseconds);
        return TimeSpan.FromMilliseconds(plain * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }
}
