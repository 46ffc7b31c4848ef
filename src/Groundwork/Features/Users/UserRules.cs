using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using System.Text;
using System.Globalization;
using FluentValidation;

namespace Groundwork.Features.Users;

/// <summary>The field rules for users, shared by every request that carries these fields.</summary>
public static class UserRules
{
    /// <summary>
    /// Required, at most 254 characters, then the shape; the chain stops at the first failure, so the shape check
    /// only ever sees 254 characters, and it is one linear pass (no pattern that could backtrack).
    /// </summary>
    public static IRuleBuilderOptions<T, string?> ValidEmail<T>(this IRuleBuilderInitial<T, string?> rule) =>
        rule.Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Email is required")
            .MaximumLength(254).WithMessage("Email must be at most 254 characters")
            .Must(e => e is null || HasEmailShape(e)).WithMessage("Invalid email format");

    public static IRuleBuilderOptions<T, string?> ValidName<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("Name is required")
            .MaximumLength(100).WithMessage("Name must be at most 100 characters")
            .Must(TextSafety.IsPlainLabel).WithMessage(TextSafety.PlainLabelMessage);

    /// <summary>8–72 UTF-8 bytes: bcrypt ignores everything past byte 72, so longer would be a false promise.</summary>
    public static IRuleBuilderOptions<T, string?> ValidPassword<T>(this IRuleBuilder<T, string?> rule) =>
        rule.NotEmpty().WithMessage("Password is required")
            .Must(p => p is null || Encoding.UTF8.GetByteCount(p) is >= 8 and <= PasswordHasher.MaxPasswordBytes)
            .WithMessage($"Password must be 8 to {PasswordHasher.MaxPasswordBytes} bytes long");

    /// <summary><c>local@domain.tld</c>: one <c>@</c>, a dot inside the domain, no spaces or control characters.</summary>
    public static bool HasEmailShape(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != email.LastIndexOf('@') || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned))
        {
            return false;
        }

        var dot = email.LastIndexOf('.');
        return dot > at + 1 && dot < email.Length - 1;
    }
}
