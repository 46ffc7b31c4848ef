using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Features.Posts;

public sealed class Post
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid AuthorId { get; init; }
    public required string Title { get; set; }
    public required string Content { get; set; }
    public bool Published { get; set; }
    public DateTime? PublishedAt { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; set; }
    public int Version { get; set; } = 1;

    /// <summary>Views written so far by the write-behind flush (<see cref="PostViews"/>); not part of the version.</summary>
    public long ViewCount { get; set; }
}

internal sealed class PostConfiguration : IEntityTypeConfiguration<Post>
{
    public void Configure(EntityTypeBuilder<Post> builder)
    {
        builder.ToTable("posts");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Title).HasMaxLength(200);
        builder.Property(p => p.Content).HasMaxLength(50_000);
        builder.Property(p => p.Version).IsConcurrencyToken();
        builder.HasOne<Users.User>().WithMany().HasForeignKey(p => p.AuthorId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(p => new { p.Published, p.CreatedAt });
        builder.HasIndex(p => new { p.Published, p.PublishedAt });
        builder.HasIndex(p => new { p.AuthorId, p.CreatedAt });
        builder.HasIndex(p => p.Title);
    }
}

/// <summary>This feature's tables on the shared DbContext (the Platform's context knows no feature).</summary>
public static class PostTables
{
    extension(GroundworkDbContext db)
    {
        public DbSet<Post> Posts => db.Set<Post>();
    }
}
