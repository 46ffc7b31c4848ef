using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.Auth;

public sealed record TokenPair(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, DateTime RefreshTokenExpiresAt);

/// <summary>Starts sessions (login) and issues each refresh token of a session (login and rotation).</summary>
public sealed class SessionIssuer(GroundworkDbContext db, AccessTokenIssuer tokens, GroundworkSettings settings, TimeProvider clock)
{
    /// <summary>Stages a new session and its first refresh token; the pipeline's transaction saves them.</summary>
    public TokenPair Start(User user, Caller caller)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var session = new Session
        {
            UserId = user.Id,
            CreatedAt = now,
            LastSeenAt = now,
            ExpiresAt = now + settings.RefreshTokenLifetime,
            UserAgent = caller.UserAgent,
            Ip = caller.ClientIp,
        };
        db.Sessions.Add(session);
        var refresh = AddRefreshToken(session.Id, now);
        return Pair(user.Id, user.Role, session, refresh);
    }

    /// <summary>Stages the next refresh token of a session; the caller saves it with the rotation.</summary>
    public string AddRefreshToken(Guid sessionId, DateTime now)
    {
        var token = Secrets.NewToken();
        db.RefreshTokens.Add(new RefreshToken { TokenHash = Secrets.Hash(token), SessionId = sessionId, CreatedAt = now });
        return token;
    }

    public TokenPair Pair(Guid userId, Role role, Session session, string refreshToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var access = tokens.Issue(userId, session.Id, role);
        return new TokenPair(access.Token, "Bearer", access.ExpiresInSeconds, refreshToken, session.ExpiresAt);
    }
}
