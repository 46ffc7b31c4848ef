using System.Reflection;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// The GraphQL IDE (GraphiQL) at <c>/graphql/ide</c>, outside Production. Every asset is embedded in the app
/// (gzipped, see tools/graphiql/vendor.sh), so the page works with no internet; a strict CSP keeps it that way.
/// </summary>
public static class GraphQLIde
{
    private const string Prefix = "Groundwork.Platform.GraphQLServer.Ide.";

    private static readonly Dictionary<string, (string ContentType, bool Gzipped)> Assets = new(StringComparer.Ordinal)
    {
        ["graphiql.min.js"] = ("text/javascript; charset=utf-8", true),
        ["graphiql.min.css"] = ("text/css; charset=utf-8", true),
        ["react.production.min.js"] = ("text/javascript; charset=utf-8", true),
        ["react-dom.production.min.js"] = ("text/javascript; charset=utf-8", true),
        ["graphql-ws.min.js"] = ("text/javascript; charset=utf-8", true),
        ["ide.js"] = ("text/javascript; charset=utf-8", false),
        ["ide.css"] = ("text/css; charset=utf-8", false),
        ["THIRD-PARTY-NOTICES.txt"] = ("text/plain; charset=utf-8", false),
    };

    public static void MapGraphQLIde(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/graphql/ide", (HttpContext http) => Serve(http, "index.html", "text/html; charset=utf-8", gzipped: false))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/graphql/ide/{file}", (HttpContext http, string file) =>
                Assets.TryGetValue(file, out var asset) ? Serve(http, file, asset.ContentType, asset.Gzipped) : Results.NotFound())
            .AllowAnonymous().ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext http, string file, string contentType, bool gzipped)
    {
        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(Prefix + file + (gzipped ? ".gz" : ""));
        if (stream is null)
        {
            return Results.NotFound();
        }

        var headers = http.Response.Headers;
        // Nothing may load from elsewhere; GraphiQL needs inline styles and data: fonts/images. Subscriptions need
        // the WebSocket to this same host (named: not every browser counts ws:// as 'self').
        var host = http.Request.Host.Value ?? "";
        var sockets = host.Length > 0 && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']') ? $" ws://{host} wss://{host}" : "";
        headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            + $"connect-src 'self'{sockets}; frame-ancestors 'none'";
        headers.CacheControl = file == "index.html" ? "no-cache" : "public, max-age=86400";
        if (gzipped)
        {
            // Browsers all accept gzip; the assets are stored compressed to keep the app small.
            headers.ContentEncoding = "gzip";
            headers.Vary = "Accept-Encoding";
        }

        return Results.Stream(stream, contentType);
    }
}
