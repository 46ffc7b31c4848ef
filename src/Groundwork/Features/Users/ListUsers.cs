using Groundwork.Platform.Caching;
using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

public sealed record ListUsersRequest(
    PageRequest Page,
    Role? Role = null,
    string? Q = null,
    DateTime? CreatedAfter = null,
    DateTime? CreatedBefore = null);

public sealed class ListUsersValidator : AbstractValidator<ListUsersRequest>
{
    public ListUsersValidator()
    {
        RuleFor(r => r.Page).ValidPage(ListUsers.SortFields);
        RuleFor(r => r.Q).MaximumLength(100).WithName("q");
    }
}

public sealed class ListUsers(GroundworkDbContext db, EntityCache cache) : IOperation<ListUsersRequest, PagedList<UserDto>>
{
    public static readonly IReadOnlyList<string> SortFields = ["createdAt", "name", "email"];

    public Policy Policy => Policy.InRole(Scopes.UsersRead, Role.Admin, Role.Moderator);

    public async Task<Result<PagedList<UserDto>>> HandleAsync(ListUsersRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var query = db.Users.AsNoTracking();
        if (request.Role is { } role)
        {
            query = query.Where(u => u.Role == role);
        }

        if (!string.IsNullOrWhiteSpace(request.Q))
        {
            // The address is folded by .NET when stored (NormalizedEmail), the name by the database (SearchText).
            var (q, ascii) = SearchText.Forms(request.Q);
            query = q == ascii
                ? query.Where(u => u.NormalizedEmail.Contains(q) || u.Name.ToLower().Contains(q))
                : query.Where(u => u.NormalizedEmail.Contains(q) || u.Name.ToLower().Contains(q) || u.Name.ToLower().Contains(ascii));
        }

        if (request.CreatedAfter is { } after)
        {
            query = query.Where(u => u.CreatedAt > after);
        }

        if (request.CreatedBefore is { } before)
        {
            query = query.Where(u => u.CreatedAt < before);
        }

        var page = request.Page;
        var desc = page.Order == SortOrder.Desc;
        // Id breaks ties so pages never overlap or skip rows that share a sort value.
        query = PageRules.CanonicalSort(page.Sort, SortFields) switch
        {
            // Alphabetical means case-insensitive to people ("alice" before "Bob").
            "name" => desc ? query.OrderByDescending(u => u.Name.ToLower()).ThenByDescending(u => u.Id) : query.OrderBy(u => u.Name.ToLower()).ThenBy(u => u.Id),
            "email" => desc ? query.OrderByDescending(u => u.NormalizedEmail).ThenByDescending(u => u.Id) : query.OrderBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            _ => desc ? query.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id) : query.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id),
        };

        // Free-text searches are counted every time: caching one total per search text would let anyone fill the cache.
        var filter = string.Join('|', request.Role, request.CreatedAfter?.ToString("O"), request.CreatedBefore?.ToString("O"));
        var total = string.IsNullOrWhiteSpace(request.Q)
            ? await query.TotalAsync(page, cache, UserCache.List, filter, cancellationToken)
            : await query.TotalAsync(page, cancellationToken);
        var items = await query.Skip(page.Skip).Take(page.Limit)
            .Select(UserDto.Projection)
            .ToListAsync(cancellationToken);
        return new PagedList<UserDto>(items, page.Page, page.Limit, total);
    }
}
