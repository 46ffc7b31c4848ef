using Groundwork.Platform.Persistence;
using Groundwork.Features.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Features.Auth;

/// <summary>One login: a family of refresh tokens. Its id is the <c>sid</c> claim of every access token it issues.</summary>
public sealed class Session
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }
    public User? User { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime LastSeenAt { get; set; }

    /// <summary>Absolute end of the session; refreshing never extends it.</summary>
    public DateTime ExpiresAt { get; init; }
    public DateTime? RevokedAt { get; set; }
    public string? RevokedReason { get; set; }
    public string? UserAgent { get; init; }
    public string? Ip { get; init; }
}

/// <summary>A refresh token, kept only as its SHA-256 hash. A token that was already rotated is evidence of theft.</summary>
public sealed class RefreshToken
{
    public required string TokenHash { get; init; }
    public Guid SessionId { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? RotatedAt { get; set; }
}

internal sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> builder)
    {
        builder.ToTable("sessions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.UserAgent).HasMaxLength(512);
        builder.Property(s => s.Ip).HasMaxLength(64);
        builder.Property(s => s.RevokedReason).HasMaxLength(64);
        builder.HasOne(s => s.User).WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(s => new { s.UserId, s.CreatedAt });
    }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("refresh_tokens");
        builder.HasKey(t => t.TokenHash);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.HasOne<Session>().WithMany().HasForeignKey(t => t.SessionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(t => t.SessionId);
    }
}

/// <summary>This feature's tables on the shared DbContext (the Platform's context knows no feature).</summary>
public static class SessionTables
{
    extension(GroundworkDbContext db)
    {
        public DbSet<Session> Sessions => db.Set<Session>();
        public DbSet<RefreshToken> RefreshTokens => db.Set<RefreshToken>();
    }
}
