using Groundwork.Platform.Persistence;
using Groundwork.Platform.Auth;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Features.Users;

public sealed class User
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Email { get; set; }

    /// <summary>Lower-cased email; uniqueness is case-insensitive on every provider.</summary>
    public required string NormalizedEmail { get; set; }
    public required string Name { get; set; }
    public Role Role { get; set; } = Role.User;
    public required string PasswordHash { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>Soft delete: ledger rows and orders keep pointing at the user; the email is freed.</summary>
    public DateTime? DeletedAt { get; set; }

    /// <summary>Bumped on every change; the ETag and the optimistic concurrency token.</summary>
    public int Version { get; set; } = 1;

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Email).HasMaxLength(254);
        builder.Property(u => u.NormalizedEmail).HasMaxLength(254);
        builder.Property(u => u.Name).HasMaxLength(100);
        builder.Property(u => u.PasswordHash).HasMaxLength(100);
        builder.Property(u => u.Role).HasConversion(r => r.WireName(), s => ParseRole(s)).HasMaxLength(16);
        builder.Property(u => u.Version).IsConcurrencyToken();
        builder.HasIndex(u => u.NormalizedEmail).IsUnique().HasFilter("deleted_at IS NULL");
        // Every list sort is index-backed, tie-breaker included: createdAt here; name through the expression index
        // on (lower(name), id) that the SortIndexes migrations create (EF Core cannot declare expression indexes);
        // email through the unique index on it (unique among live users, so the id tie-breaker never decides).
        builder.HasIndex(u => new { u.CreatedAt, u.Id });
        builder.HasIndex(u => new { u.Role, u.CreatedAt });
        builder.HasQueryFilter(u => u.DeletedAt == null);
    }

    private static Role ParseRole(string value) =>
        Roles.TryParse(value, out var role) ? role : throw new InvalidOperationException($"Unknown role '{value}' in database");
}

/// <summary>This feature's tables on the shared DbContext (the Platform's context knows no feature).</summary>
public static class UserTables
{
    extension(GroundworkDbContext db)
    {
        public DbSet<User> Users => db.Set<User>();
    }
}
