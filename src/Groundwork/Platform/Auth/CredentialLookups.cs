namespace Groundwork.Platform.Auth;

/// <summary>A live session and its user's role now (the authentication middleware asks on every bearer request).</summary>
public sealed record ActiveSession(Guid UserId, Role Role);

/// <summary>Finds live sessions; implemented by the sessions feature, which owns the tables.</summary>
public interface ISessionLookup
{
    Task<ActiveSession?> FindActiveAsync(Guid sessionId, DateTime now, CancellationToken cancellationToken);
}

/// <summary>Who an API key acts as: its owner, the owner's role now, narrowed to the key's scopes.</summary>
public sealed record ApiKeyOwner(Guid KeyId, Guid UserId, Role Role, string Scopes, DateTime? ExpiresAt = null);

/// <summary>Finds usable (not revoked, not expired) API keys by secret hash; implemented by the API-keys feature.</summary>
public interface IApiKeyLookup
{
    Task<ApiKeyOwner?> FindActiveAsync(string secretHash, DateTime now, CancellationToken cancellationToken);

    /// <summary>The same by key id: whether a key that opened a long-lived stream is still usable.</summary>
    Task<ApiKeyOwner?> FindActiveByIdAsync(Guid keyId, DateTime now, CancellationToken cancellationToken);
}

/// <summary>The write-behind kinds authentication records (see <c>LastSeenBuffer</c>).</summary>
public static class LastSeenKinds
{
    public const string Session = "session";
    public const string ApiKey = "api-key";
}
