using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

/// <summary>Creates a user; shared by self-registration, admin creation and the CLI's create-admin.</summary>
public sealed class UserRegistration(GroundworkDbContext db, PasswordHasher hasher, TimeProvider clock)
{
    public async Task<Result<User>> CreateAsync(string email, string name, string password, Role role, CancellationToken cancellationToken)
    {
        var normalized = User.Normalize(email);
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == normalized, cancellationToken))
        {
            return EmailTaken;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var user = new User
        {
            Email = email.Trim(),
            NormalizedEmail = normalized,
            Name = name.Trim(),
            Role = role,
            PasswordHash = hasher.Hash(password),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            // Lost a race with a concurrent registration of the same email.
            db.ChangeTracker.Clear();
            return EmailTaken;
        }

        return user;
    }

    private static Error EmailTaken => Error.Duplicate("email", "A user with this email already exists");
}
