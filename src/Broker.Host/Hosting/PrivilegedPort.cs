using System.Net;
using System.Net.Sockets;

namespace Broker.Host.Hosting;

/// <summary>Whether this process may bind a port below 1024 (root, CAP_NET_BIND_SERVICE, or a lowered sysctl).</summary>
internal static class PrivilegedPort
{
    /// <summary>
    /// Binds and releases <paramref name="port"/> on <paramref name="address"/> (null: every interface). Only a refusal
    /// for lack of privilege counts: a port in use is Kestrel's to report when it binds.
    /// </summary>
    public static bool CanBind(IPAddress? address, int port)
    {
        var bindTo = address ?? (Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any);
        try
        {
            using var socket = new Socket(bindTo.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (address is null && bindTo.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = true;
            }

            socket.Bind(new IPEndPoint(bindTo, port));
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
