namespace Groundwork.Platform.Auth;

public enum Role
{
    User,
    Moderator,
    Admin,
}

public static class Roles
{
    public static string WireName(this Role role) => role switch
    {
        Role.User => "user",
        Role.Moderator => "moderator",
        Role.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? value, out Role role)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "user": role = Role.User; return true;
            case "moderator": role = Role.Moderator; return true;
            case "admin": role = Role.Admin; return true;
            default: role = default; return false;
        }
    }
}
