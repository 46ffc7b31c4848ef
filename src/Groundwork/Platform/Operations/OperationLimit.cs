using Groundwork.Platform.Configuration;

namespace Groundwork.Platform.Operations;

/// <summary>
/// A rate limit an operation declares: a named token bucket, its rule from configuration, and whose bucket a call
/// draws from. The pipeline takes these before the policy and validation run, so a refused call costs nothing.
/// </summary>
public sealed record OperationLimit<TRequest>(
    string Name,
    Func<RateLimitSettings, RateLimitRule> Rule,
    Func<TRequest, Caller, string> Partition)
{
    /// <summary>Partition keys are bounded: a 1 MiB field must not become a 1 MiB dictionary key.</summary>
    private const int MaxPartitionLength = 256;

    public string PartitionOf(TRequest request, Caller caller)
    {
        var key = Partition(request, caller);
        return key.Length <= MaxPartitionLength ? key : key[..MaxPartitionLength];
    }

    /// <summary>One bucket per client IP.</summary>
    public static OperationLimit<TRequest> PerIp(string name, Func<RateLimitSettings, RateLimitRule> rule) =>
        new(name, rule, (_, caller) => caller.ClientIp ?? "unknown");

    /// <summary>One bucket per signed-in user (whatever credential they use).</summary>
    public static OperationLimit<TRequest> PerUser(string name, Func<RateLimitSettings, RateLimitRule> rule) =>
        new(name, rule, (_, caller) => caller.UserId?.ToString() ?? caller.ClientIp ?? "unknown");
}
