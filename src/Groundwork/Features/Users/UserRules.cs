using System.Text;
using System.Text.RegularExpressions;
using FluentValidation;

namespace Groundwork.Features.Users;

/// <summary>The field rules of SPEC §3 for users, shared by every request that carries these fields.</summary>
public static partial class UserRules
{
    public static IRuleBuilderOptions<T, string?> ValidEmail<T>(this IRuleBuilder<T, string?> rule) =>
        rule.NotEmpty().WithMessage("Email is required")
            .MaximumLength(254).WithMessage("Email must be at most 254 characters")
            .Must(e => e is null || EmailShape().IsMatch(e)).WithMessage("Invalid email format");

    public static IRuleBuilderOptions<T, string?> ValidName<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("Name is required")
            .MaximumLength(100).WithMessage("Name must be at most 100 characters")
            .Must(n => n is null || !n.Any(char.IsControl)).WithMessage("Name must not contain control characters");

    /// <summary>8–72 UTF-8 bytes: bcrypt ignores everything past byte 72, so longer would be a false promise.</summary>
    public static IRuleBuilderOptions<T, string?> ValidPassword<T>(this IRuleBuilder<T, string?> rule) =>
        rule.NotEmpty().WithMessage("Password is required")
            .Must(p => p is null || Encoding.UTF8.GetByteCount(p) is >= 8 and <= 72)
            .WithMessage("Password must be 8 to 72 bytes long");

    [GeneratedRegex(@"^[^@\s\p{C}]+@[^@\s\p{C}]+\.[^@\s\p{C}]+$")]
    private static partial Regex EmailShape();
}
