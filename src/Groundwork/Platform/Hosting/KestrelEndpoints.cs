using System.Net;
using Groundwork.Platform.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// Two kinds of listener: the <c>Urls</c> for REST/GraphQL, and one HTTP/2-only endpoint for gRPC, because
/// gRPC over plain TCP (h2c) needs prior knowledge that a mixed endpoint cannot offer. We bind both ourselves;
/// when <c>Urls</c> comes from the environment Kestrel notes that it "overrides" it, though it binds the same.
/// (The default lives in <see cref="GroundworkSettings"/>, not appsettings.json, so a default start is quiet.)
/// </summary>
public static class KestrelEndpoints
{
    public static void Configure(WebApplicationBuilder builder, GroundworkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        builder.WebHost.ConfigureKestrel(k =>
        {
            foreach (var url in settings.HttpUrls)
            {
                // Without TLS there is no ALPN to negotiate HTTP/2, so plain http serves HTTP/1.1 only.
                Listen(k, url, url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1);
            }

            if (settings.GrpcUrl is { } grpc)
            {
                Listen(k, grpc, HttpProtocols.Http2);
            }

            if (settings.MetricsUrl is { } metrics)
            {
                Listen(k, metrics, HttpProtocols.Http1);
            }
        });
    }

    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols)
    {
        var address = BindingAddress.Parse(url);
        Action<ListenOptions> configure = o =>
        {
            o.Protocols = protocols;
            if (address.Scheme == "https")
            {
                o.UseHttps();
            }
        };

        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
        {
            kestrel.Listen(ip, address.Port, configure);
        }
        else
        {
            // "*", "+", 0.0.0.0, [::] or a host name: every interface, as Kestrel itself does.
            kestrel.ListenAnyIP(address.Port, configure);
        }
    }
}
