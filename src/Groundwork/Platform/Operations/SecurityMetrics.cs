using System.Diagnostics.Metrics;

namespace Groundwork.Platform.Operations;

/// <summary>
/// The meter <c>Groundwork.Security</c>: what operators watch for attacks and misbehaving clients
/// (docs/operations.md, runbook). Static like the runtime's meters: one per process.
/// </summary>
public static class SecurityMetrics
{
    public const string MeterName = "Groundwork.Security";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> AuthRefusals = Meter.CreateCounter<long>(
        "groundwork.auth.refusals", unit: "{request}", description: "Failed sign-ins and refused signed-in callers, by event type");

    private static readonly Counter<long> RateLimitRefusals = Meter.CreateCounter<long>(
        "groundwork.rate_limit.refusals", unit: "{request}", description: "Requests refused by a rate limit, by policy");

    /// <summary>A refusal the audit log records (<c>auth.login_failed</c>, <c>auth.access_denied</c>).</summary>
    public static void AuthRefused(string eventType) => AuthRefusals.Add(1, new KeyValuePair<string, object?>("event", eventType));

    /// <summary>A request refused because a limit (<paramref name="policy"/>) was spent.</summary>
    public static void RateLimited(string policy) => RateLimitRefusals.Add(1, new KeyValuePair<string, object?>("policy", policy));
}
