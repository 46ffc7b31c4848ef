using Groundwork.Platform.Auth;

namespace Groundwork.Features.Users;

/// <summary>A user as every transport shows it. The password hash never leaves the server.</summary>
public sealed record UserDto(Guid Id, string Email, string Name, Role Role, DateTime CreatedAt, DateTime UpdatedAt)
{
    /// <summary>The representation's version, for <c>ETag</c> / <c>If-Match</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Version { get; init; }

    /// <summary>The same mapping as a query projection: only the columns the DTO shows are read.</summary>
    public static readonly System.Linq.Expressions.Expression<Func<User, UserDto>> Projection =
        u => new UserDto(u.Id, u.Email, u.Name, u.Role, u.CreatedAt, u.UpdatedAt) { Version = u.Version };

    public static UserDto From(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new(user.Id, user.Email, user.Name, user.Role, user.CreatedAt, user.UpdatedAt) { Version = user.Version };
    }
}
