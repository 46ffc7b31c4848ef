using Groundwork.Platform.Messaging;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.Posts;

internal static class PostEvents
{
    public static void Published(GroundworkDbContext db, TimeProvider clock, Post post) =>
        Outbox.Add(db, clock, "post.published", post.Id, PostDto.From(post), EventAudience.Everyone);

    public static void Unpublished(GroundworkDbContext db, TimeProvider clock, Post post) =>
        Outbox.Add(db, clock, "post.unpublished", post.Id, PostDto.From(post), EventAudience.OwnerAndStaff(post.AuthorId));

    public static void Deleted(GroundworkDbContext db, TimeProvider clock, Post post) =>
        Outbox.Add(db, clock, "post.deleted", post.Id, new { id = post.Id, authorId = post.AuthorId }, EventAudience.OwnerAndStaff(post.AuthorId));
}
