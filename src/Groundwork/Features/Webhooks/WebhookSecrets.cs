using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Groundwork.Features.Webhooks;

/// <summary>
/// Webhook signing secrets: made here, shown once, stored encrypted with the service's data-protection keys (kept
/// beside the signing keys in <c>Groundwork:Auth:KeysPath</c>, so every node shares them), and used to sign each
/// delivery as <c>Groundwork-Signature: t=&lt;unix&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider protection)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Groundwork.Webhooks.Secret.v1");

    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);

    /// <summary>The header value: one <c>v1</c> per secret in use (the new one first during a rotation's grace period).</summary>
    public static string Signature(long timestamp, string body, IEnumerable<string> secrets)
    {
        var signed = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{timestamp}.{body}"));
        var parts = secrets.Select(s => "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(s), signed)));
        return string.Create(CultureInfo.InvariantCulture, $"t={timestamp},") + string.Join(',', parts);
    }
}
