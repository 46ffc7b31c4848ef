using System.Security.Cryptography;
using System.Text;
using Groundwork.Features.Users;
using Groundwork.Platform.Messaging;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.Auth;

/// <summary>The sign-in events of the catalogue (docs/api/events.md): what the audit log records.</summary>
internal static class AuthEvents
{
    public const string LoginSucceededType = "auth.login_succeeded";
    public const string LoginFailedType = "auth.login_failed";
    public const string RefreshTokenReusedType = "auth.refresh_token_reused";

    /// <summary>Staged in the sign-in's own transaction: it exists exactly when the session does.</summary>
    public static void LoginSucceeded(GroundworkDbContext db, TimeProvider clock, Guid userId, Caller caller) =>
        Outbox.Add(db, clock, LoginSucceededType, userId, new { userId, ip = caller.ClientIp, userAgent = caller.UserAgent }, EventAudience.OwnersAndAdmins(userId));

    /// <summary>
    /// A refresh token presented after it was rotated: someone else holds a copy, and the session is revoked. Staged in
    /// the refresh's transaction, which keeps that revocation though the call fails.
    /// </summary>
    public static void RefreshTokenReused(GroundworkDbContext db, TimeProvider clock, Guid userId, Guid sessionId, Caller caller) =>
        Outbox.Add(db, clock, RefreshTokenReusedType, userId, new { userId, sessionId, ip = caller.ClientIp, userAgent = caller.UserAgent }, EventAudience.OwnersAndAdmins(userId));

    /// <summary>
    /// For admins only (whoever tried may not own the address). The subject is a stable id derived from the
    /// normalized e-mail, so attempts on one address group together without a lookup.
    /// </summary>
    public static AuditEvent LoginFailed(string? email, Caller caller)
    {
        var normalized = User.Normalize(email ?? "");
        var subject = new Guid(SHA256.HashData(Encoding.UTF8.GetBytes("login:" + normalized)).AsSpan(0, 16));
        return new AuditEvent(LoginFailedType, subject,
            new { email = normalized.Length > 254 ? normalized[..254] : normalized, ip = caller.ClientIp, userAgent = caller.UserAgent },
            EventAudience.OwnersAndAdmins(null));
    }
}
