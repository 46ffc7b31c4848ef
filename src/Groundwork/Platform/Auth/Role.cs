namespace Groundwork.Platform.Auth;

public enum Role
{
    User,
    Moderator,
    Admin,
}

public static class Roles
{
    public static string WireName(this Role role) => Http.WireEnums.Name(role);

    public static bool TryParse(string? value, out Role role) => Http.WireEnums.TryParse(value, out role);
}
