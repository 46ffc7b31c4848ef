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
/// nodes never send the same one at once, and a crashed node's claims lapse.
/// </summary>
public sealed class WebhookSender(IServiceScopeFactory scopes, IHttpClientFactory http, GroundworkSettings settings, TimeProvider clock, ILogger<WebhookSender> logger)
    : BackgroundService
{
    public const string HttpClientName = "webhooks";
    private const int BatchSize = 20;
    private static readonly TimeSpan ClaimFor = TimeSpan.FromMinutes(1);
    private static readonly Meter Meter = new("Groundwork.Webhooks");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("groundwork.webhooks.failed_attempts", unit: "{attempt}", description: "Webhook delivery attempts that did not get a 2xx");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var background = Platform.Hosting.BackgroundWork.Begin("webhook-sender");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await SendDueAsync(stoppingToken) < BatchSize)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), clock, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Webhook sending paused ({Reason}); retrying", e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Claims and sends up to one batch of due deliveries; returns how many were claimed.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var due = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now && (d.LockedUntil == null || d.LockedUntil < now))
            .OrderBy(d => d.NextAttemptAt)
            .Select(d => d.Id)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        var claimed = new List<Guid>();
        foreach (var id in due)
        {
            // A conditional update: whichever node changes the row owns the delivery for the next minute.
            if (await db.WebhookDeliveries
                    .Where(d => d.Id == id && d.Status == DeliveryStatus.Pending && (d.LockedUntil == null || d.LockedUntil < now))
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.LockedUntil, now + ClaimFor), cancellationToken) == 1)
            {
                claimed.Add(id);
            }
        }

        if (claimed.Count == 0)
        {
            return 0;
        }

        var deliveries = await db.WebhookDeliveries.Where(d => claimed.Contains(d.Id)).ToListAsync(cancellationToken);
        var webhookIds = deliveries.Select(d => d.WebhookId).Distinct().ToList();
        var webhooks = await db.Webhooks.AsNoTracking().Where(w => webhookIds.Contains(w.Id)).ToDictionaryAsync(w => w.Id, cancellationToken);
        var secrets = scope.ServiceProvider.GetRequiredService<WebhookSecrets>();
        var outcomes = await Task.WhenAll(deliveries.Select(d => SendAsync(d, webhooks.GetValueOrDefault(d.WebhookId), secrets, cancellationToken)));

        foreach (var (delivery, outcome) in deliveries.Zip(outcomes))
        {
            Record(db, delivery, outcome);
        }

        await db.SaveChangesAsync(cancellationToken);
        return claimed.Count;
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
