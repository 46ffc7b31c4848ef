using GraphQL;
using GraphQL.Types;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GraphQLServer;

/// <summary><c>type PageInfo</c> of the seed schema: offset pages, as REST's <c>meta</c>.</summary>
public sealed record PageInfo(int CurrentPage, int TotalPages, bool HasNextPage, bool HasPreviousPage)
{
    public static PageInfo Of<T>(PagedList<T> page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return new(page.Page, page.TotalPages, page.Page < page.TotalPages, page.Page > 1);
    }
}

public sealed class PageInfoType : ObjectGraphType<PageInfo>
{
    public PageInfoType()
    {
        Name = "PageInfo";
        Field<NonNullGraphType<IntGraphType>>("currentPage").Resolve(ctx => ctx.Source.CurrentPage);
        Field<NonNullGraphType<IntGraphType>>("totalPages").Resolve(ctx => ctx.Source.TotalPages);
        Field<NonNullGraphType<BooleanGraphType>>("hasNextPage").Resolve(ctx => ctx.Source.HasNextPage);
        Field<NonNullGraphType<BooleanGraphType>>("hasPreviousPage").Resolve(ctx => ctx.Source.HasPreviousPage);
    }
}

/// <summary>A page of any list as a connection: <c>nodes</c>, <c>totalCount</c>, <c>pageInfo</c>.</summary>
public abstract class PageConnectionType<TNodeType, TNode> : ObjectGraphType<PagedList<TNode>>
    where TNodeType : IGraphType
{
    protected PageConnectionType(string name)
    {
        Name = name;
        // The list's size is already counted on the field that returned the connection (its limit argument).
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<TNodeType>>>>("nodes").WithComplexityImpact(1, 1).Resolve(ctx => ctx.Source.Items);
        Field<NonNullGraphType<IntGraphType>>("totalCount").Resolve(ctx => ctx.Source.Total);
        Field<NonNullGraphType<PageInfoType>>("pageInfo").Resolve(ctx => PageInfo.Of(ctx.Source));
    }
}

/// <summary>A keyset page as a connection: <c>nodes</c> and <c>pageInfo { hasNextPage endCursor }</c>.</summary>
public abstract class CursorConnectionType<TNodeType, TNode> : ObjectGraphType<CursorPage<TNode>>
    where TNodeType : IGraphType
{
    protected CursorConnectionType(string name)
    {
        Name = name;
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<TNodeType>>>>("nodes").WithComplexityImpact(1, 1).Resolve(ctx => ctx.Source.Items);
        Field<NonNullGraphType<CursorPageInfoType>>("pageInfo").Resolve(ctx => new CursorPageInfo(ctx.Source.HasMore, ctx.Source.NextCursor));
    }
}

public sealed record CursorPageInfo(bool HasNextPage, string? EndCursor);

public sealed class CursorPageInfoType : ObjectGraphType<CursorPageInfo>
{
    public CursorPageInfoType()
    {
        Name = "CursorPageInfo";
        Field<NonNullGraphType<BooleanGraphType>>("hasNextPage").Resolve(ctx => ctx.Source.HasNextPage);
        Field<StringGraphType>("endCursor").Description("Pass as `after` for the next page; null on the last page.").Resolve(ctx => ctx.Source.EndCursor);
    }
}

public static class GraphQLPaging
{
    /// <summary>
    /// The offset page a connection field asks for, counting the total only when the query selects
    /// <c>totalCount</c> or <c>pageInfo</c>: GraphQL computes what it is asked, and the count is often the
    /// dearest statement of a list.
    /// </summary>
    public static PageRequest PageRequest(this GraphQL.IResolveFieldContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var wantsTotal = context.SubFields?.Values.Any(f => f.Field.Name.StringValue is "totalCount" or "pageInfo") ?? true;
        return new PageRequest(context.GetArgument("page", 1), context.GetArgument("limit", 20), CountTotal: wantsTotal);
    }
}
