using Groundwork.Platform.Caching;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

/// <summary>
/// Stages a new user on the DbContext; shared by self-registration, admin creation and the CLI's create-admin.
/// The caller's transaction saves it; a concurrent twin with the same email loses on the unique index (409).
/// </summary>
public sealed class UserRegistration(GroundworkDbContext db, PasswordHasher hasher, CacheWrites cache, TimeProvider clock)
{
    /// <summary>The password's bcrypt hash, made before the transaction (ADR 0025); give it to <see cref="CreateAsync"/>.</summary>
    public Task<string> HashPasswordAsync(string password, CancellationToken cancellationToken) => hasher.HashAsync(password, cancellationToken);

    /// <param name="passwordHash">From <see cref="HashPasswordAsync"/>.</param>
    public async Task<Result<User>> CreateAsync(string email, string name, string passwordHash, Role role, CancellationToken cancellationToken)
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
            PasswordHash = passwordHash,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Users.Add(user);
        UserEvents.Created(db, clock, user);
        cache.ListChanged(UserCache.List);
        return user;
    }

    private static Error EmailTaken => Error.Duplicate("email", "A user with this email already exists");
}
