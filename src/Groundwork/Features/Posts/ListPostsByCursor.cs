using System.Buffers.Binary;
using System.Buffers.Text;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Posts;

public sealed record ListPostsByCursorRequest(int Limit = 20, string? After = null, bool? Published = null, Guid? AuthorId = null);

public sealed class ListPostsByCursorValidator : AbstractValidator<ListPostsByCursorRequest>
{
    public ListPostsByCursorValidator()
    {
        RuleFor(r => r.Limit).InclusiveBetween(1, PageRequest.MaxLimit).WithMessage($"Must be between 1 and {PageRequest.MaxLimit}");
        RuleFor(r => r.After).Must(c => c is null || PostCursor.TryDecode(c, out _)).WithMessage("Invalid cursor").OverridePropertyName("cursor");
    }
}

/// <summary>
/// Posts the caller may see, newest first, by keyset on (created_at, id): REST's <c>?cursor=</c>/<c>?after=</c>
/// lists and GraphQL's <c>postsConnection</c> page through everything at a flat cost.
/// </summary>
public sealed class ListPostsByCursor(GroundworkDbContext db) : IOperation<ListPostsByCursorRequest, CursorPage<PostDto>>
{
    public Policy Policy => Policy.AnonymousOrScoped(Scopes.PostsRead);

    public async Task<Result<CursorPage<PostDto>>> HandleAsync(ListPostsByCursorRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var query = db.Posts.AsNoTracking().Visible(caller).Matching(request.Published, request.AuthorId);

        if (request.After is not null && PostCursor.TryDecode(request.After, out var after))
        {
            query = query.Where(p => p.CreatedAt < after.CreatedAt || (p.CreatedAt == after.CreatedAt && p.Id.CompareTo(after.Id) < 0));
        }

        var rows = await query.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id).Take(request.Limit + 1)
            .Select(p => new PostDto(p.Id, p.AuthorId, p.Title, p.Content, p.Published, p.PublishedAt, p.CreatedAt, p.UpdatedAt) { Version = p.Version })
            .ToListAsync(cancellationToken);
        var hasMore = rows.Count > request.Limit;
        var page = rows.Take(request.Limit).ToList();
        return new CursorPage<PostDto>(page, request.Limit, hasMore, hasMore ? PostCursor.Encode(page[^1].CreatedAt, page[^1].Id) : null);
    }
}

/// <summary>Opaque cursor: the last post's (created_at, id), base64url.</summary>
public static class PostCursor
{
    public static string Encode(DateTime createdAt, Guid id)
    {
        Span<byte> bytes = stackalloc byte[24];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, createdAt.Ticks);
        id.TryWriteBytes(bytes[8..]);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryDecode(string cursor, out (DateTime CreatedAt, Guid Id) position)
    {
        position = default;
        if (cursor.Length is 0 or > 40)
        {
            return false;
        }

        try
        {
            var bytes = Base64Url.DecodeFromChars(cursor);
            if (bytes.Length != 24)
            {
                return false;
            }

            var ticks = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
            {
                return false;
            }

            position = (new DateTime(ticks, DateTimeKind.Utc), new Guid(bytes.AsSpan(8)));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
