namespace Groundwork.Platform.Operations;

/// <summary>
/// Marks a request property that carries a secret (a password). Secrets are left out of everything derived from a
/// request and stored, such as idempotency fingerprints: an unsalted hash of a password would be a shortcut past bcrypt.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class SecretAttribute : Attribute;
