using FluentValidation;
using Groundwork.Features.Events;

namespace Groundwork.Features.Webhooks;

/// <summary>What every webhook write checks: the URL's shape and the event names (the SSRF guard runs in the handler, it needs DNS).</summary>
internal static class WebhookRules
{
    public const int MaxWebhooks = 100;

    public static IRuleBuilderOptions<T, string?> ValidUrl<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(u => u is { Length: > 0 and <= 2_000 } && Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.Host.Length > 0 && uri.UserInfo.Length == 0)
            .WithMessage("Must be an absolute http(s) URL without credentials, at most 2,000 characters");

    public static IRuleBuilderOptions<T, IReadOnlyList<string>?> ValidEvents<T>(this IRuleBuilder<T, IReadOnlyList<string>?> rule) =>
        rule.Must(e => e is { Count: > 0 and <= EventCatalogue.MaxTypes } && e.All(t => t is not null && EventCatalogue.ScopeByType.ContainsKey(t)))
            .WithMessage($"List 1 to {EventCatalogue.MaxTypes} event types from the catalogue: {string.Join(", ", EventCatalogue.ScopeByType.Keys)}");

    public static string Join(IEnumerable<string> events) => string.Join(' ', events.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
}
