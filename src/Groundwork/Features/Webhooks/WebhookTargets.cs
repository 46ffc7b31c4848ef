using System.Net;
using System.Text;
using System.Net.Sockets;

namespace Groundwork.Features.Webhooks;

/// <summary>
/// The SSRF guard: a webhook may not point the service at its own network. Unless
/// <c>Groundwork:Webhooks:AllowPrivateTargets</c> is set, loopback, private, link-local, carrier-grade NAT, multicast
/// and unspecified addresses are refused, when a webhook is saved (for addresses known then) and again at every
/// connection, against the addresses DNS gives at that moment, so a name that later resolves inward (DNS
/// rebinding) is still refused. Redirects are never followed.
/// </summary>
public static class WebhookTargets
{
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (OwnAddresses.Value.Contains(address))
        {
            return false; // this machine, whatever range it is in
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) // carrier-grade NAT
                || (b[0] == 169 && b[1] == 254) // link-local, cloud metadata
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) // IETF, documentation
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19)) // benchmarking
                || (b[0] == 198 && b[1] == 51 && b[2] == 100) // documentation
                || (b[0] == 203 && b[1] == 0 && b[2] == 113) // documentation
                || b[0] >= 224); // multicast, reserved, broadcast
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        var v6 = address.GetAddressBytes();
        // Addresses that carry an IPv4 address (6to4, NAT64, the deprecated compatible form) are judged by it.
        if (v6[0] == 0x20 && v6[1] == 0x02)
        {
            return IsPublic(new IPAddress(v6.AsSpan(2, 4)));
        }

        if (v6.AsSpan(0, 12).SequenceEqual(new byte[] { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 }) || v6.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
        {
            return IsPublic(new IPAddress(v6.AsSpan(12, 4)));
        }

        // Otherwise only global unicast (2000::/3), less documentation (2001:db8::/32) and Teredo (2001::/32).
        return (v6[0] & 0xE0) == 0x20
            && !(v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8)
            && !(v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0 && v6[3] == 0);
    }

    /// <summary>Every address of this machine's interfaces (read once): a webhook must not call the service's own host.</summary>
    private static readonly Lazy<HashSet<IPAddress>> OwnAddresses = new(() =>
    {
        try
        {
            return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address.IsIPv4MappedToIPv6 ? a.Address.MapToIPv4() : a.Address)
                .ToHashSet();
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            return [];
        }
    });

    /// <summary>Why <paramref name="url"/> cannot be a webhook target, or null when it can (as far as can be known now).</summary>
    public static async Task<string?> ProblemAsync(string url, bool allowPrivate, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Host.Length == 0)
        {
            return "Must be an absolute http(s) URL";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "Must not contain credentials";
        }

        if (uri.Port == 0 || url.Any(c => char.IsControl(c) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format))
        {
            // Port 0, and invisible or direction-changing characters that would show admins another URL than the one called.
            return "Must be a plain URL with a real port";
        }

        if (!Ascii.IsValid(uri.Host) || !Ascii.IsValid(uri.IdnHost))
        {
            // Full-width or other lookalike forms ("１２７.０.０.１", "ｌｏｃａｌｈｏｓｔ") that name lookups may map to
            // inward ASCII ones: a host outside ASCII is written in its xn-- form instead, so what is checked is what is called.
            return "The host must be written in ASCII (an internationalized name in its xn-- form)";
        }

        if (allowPrivate)
        {
            return null;
        }

        // "localhost." and "127.0.0.1." are the same hosts as without the final dot, the root of the DNS.
        var host = uri.IdnHost.TrimEnd('.');
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return "Must not point at a private, loopback or link-local address";
        }
        else
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                addresses = await Dns.GetHostAddressesAsync(host, timeout.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                // Not resolvable now: every delivery checks again before it connects.
                return null;
            }
        }

        return addresses.Length > 0 && !addresses.Any(IsPublic) ? "Must not point at a private, loopback or link-local address" : null;
    }

    /// <summary>The delivery client's connect step: resolves, drops addresses the guard refuses, connects to what is left.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> Connect(bool allowPrivate) => async (context, cancellationToken) =>
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = allowPrivate ? addresses : addresses.Where(IsPublic).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"Refused: {host} resolves only to private, loopback or link-local addresses");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };
}
