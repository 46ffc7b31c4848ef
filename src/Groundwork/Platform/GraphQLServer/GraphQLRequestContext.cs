using GraphQL;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// What a GraphQL request carries into its resolvers: the caller (built by the HTTP transport) and the
/// request's batch loaders, which live exactly as long as the request.
/// </summary>
public sealed class GraphQLRequestContext(Caller caller) : Dictionary<string, object?>
{
    private readonly Dictionary<string, object> _loaders = [];

    public Caller Caller { get; } = caller;

    /// <summary>The request's loader named <paramref name="name"/>, created on first use with <paramref name="fetch"/>.</summary>
    public BatchLoader<TKey, TValue> Loader<TKey, TValue>(
        string name,
        Func<IReadOnlyCollection<TKey>, CancellationToken, Task<IReadOnlyDictionary<TKey, TValue>>> fetch)
        where TKey : notnull
    {
        if (!_loaders.TryGetValue(name, out var loader))
        {
            loader = new BatchLoader<TKey, TValue>(fetch);
            _loaders[name] = loader;
        }

        return (BatchLoader<TKey, TValue>)loader;
    }
}

public static class GraphQLContextExtensions
{
    public static GraphQLRequestContext Request(this IResolveFieldContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return (GraphQLRequestContext)context.UserContext;
    }

    public static Caller Caller(this IResolveFieldContext context) => context.Request().Caller;
}
