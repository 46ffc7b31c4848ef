using Groundwork.Api.V1;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GrpcServer;

/// <summary>Proto paging messages to and from the operations' <see cref="Operations.PageRequest"/>.</summary>
public static class GrpcPaging
{
    public static Operations.PageRequest ToPageRequest(Api.V1.PageRequest? page) =>
        new(
            page is { Page: not 0 } ? page.Page : 1,
            page is { Limit: not 0 } ? page.Limit : 20,
            page is { Sort.Length: > 0 } ? page.Sort : "createdAt",
            page is { Order.Length: > 0 } && page.Order.Equals("asc", StringComparison.OrdinalIgnoreCase) ? SortOrder.Asc : SortOrder.Desc);

    public static PageInfo ToPageInfo<T>(PagedList<T> page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return new PageInfo { Page = page.Page, Limit = page.Limit, Total = page.Total, TotalPages = page.TotalPages };
    }
}
