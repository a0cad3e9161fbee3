using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Broker.Host.Hosting;

/// <summary>
/// The listeners the broker opened and the addresses they are bound to. Kestrel writes the bound port back into
/// each listener's options, so after start a port configured as "any free port" reads as the real one.
/// </summary>
public sealed class BrokerEndpoints
{
    private readonly ConcurrentDictionary<BrokerListener, ListenOptions> _listeners = new();

    /// <summary>Whether <paramref name="listener"/> is configured to be opened.</summary>
    public bool IsOpen(BrokerListener listener) => _listeners.ContainsKey(listener);

    /// <summary>The bound address of <paramref name="listener"/>, or null when it is not open.</summary>
    public IPEndPoint? GetEndPoint(BrokerListener listener)
        => _listeners.TryGetValue(listener, out var options) ? options.IPEndPoint : null;

    /// <summary>The bound port of <paramref name="listener"/>; throws when it is not open.</summary>
    public int GetPort(BrokerListener listener)
        => GetEndPoint(listener)?.Port ?? throw new InvalidOperationException($"The {listener} listener is not open.");

    internal void Add(BrokerListener listener, ListenOptions options) => _listeners[listener] = options;
}
