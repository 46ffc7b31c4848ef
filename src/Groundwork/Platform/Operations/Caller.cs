using Groundwork.Platform.Auth;

namespace Groundwork.Platform.Operations;

/// <summary>
/// Who is calling, as every transport describes it to the pipeline. Built once per request by the transport
/// from its credentials; operations decide with it and nothing else.
/// </summary>
public sealed record Caller
{
    public static readonly Caller Anonymous = new();

    public Guid? UserId { get; init; }
    public Role Role { get; init; } = Role.User;

    /// <summary>Scopes the credential grants. A session token grants all; an API key only its own.</summary>
    public IReadOnlySet<string> Scopes { get; init; } = Auth.Scopes.None;

    /// <summary>The session (refresh-token family) behind a bearer token; null for API keys.</summary>
    public Guid? SessionId { get; init; }
    public Guid? ApiKeyId { get; init; }

    /// <summary>When the credential stops being valid by itself (a bearer token's <c>exp</c>); long-lived streams end then.</summary>
    public DateTimeOffset? CredentialExpiresAt { get; init; }
    public string? ClientIp { get; init; }
    public string? UserAgent { get; init; }

    /// <summary>
    /// The request carried a credential (bearer token, API key) that did not authenticate: expired, forged, revoked.
    /// Such a caller is not treated as anonymous (see <see cref="Policy.Check"/>), whatever the transport.
    /// </summary>
    public bool CredentialRejected { get; init; }

    public bool IsAuthenticated => UserId is not null;

    public bool IsAdmin => IsAuthenticated && Role == Role.Admin;

    public bool IsStaff => IsAuthenticated && Role is Role.Admin or Role.Moderator;

    public bool Is(Guid userId) => UserId == userId;

    public bool HasScope(string scope) => Scopes.Contains(scope);

    /// <summary>The key rate limits and idempotency records are scoped to.</summary>
    public string PrincipalKey => ApiKeyId is { } k ? $"key:{k}" : UserId is { } u ? $"user:{u}" : $"ip:{ClientIp}";
}
