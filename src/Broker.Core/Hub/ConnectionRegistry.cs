using System.Collections.Concurrent;
using Broker.Core.Registry;

namespace Broker.Core.Hub;

/// <summary>
/// Maps each identity to its one live connection: a new connection evicts the older one, as IoT Hub does.
/// Direct methods, C2D delivery and identity changes (disable, delete) find connections here.
/// </summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, IDeviceProxy> _connections = new(StringComparer.Ordinal);

    /// <summary>A registry that no identity changes reach (tests).</summary>
    public ConnectionRegistry()
    {
    }

    /// <summary>A registry that closes the connections of identities as they are disabled or deleted.</summary>
    public ConnectionRegistry(IdentityRegistry identities)
    {
        ArgumentNullException.ThrowIfNull(identities);
        identities.IdentityChanged += change => Close(change.DeviceId, change.ModuleId,
            change.Kind == IdentityChangeKind.Disabled ? DisconnectReason.DeviceDisabled : DisconnectReason.DeviceDeleted);
    }

    /// <summary>How many identities are connected.</summary>
    public int Count => _connections.Count;

    /// <summary>Registers <paramref name="proxy"/>; an older connection of the same identity is closed (takeover).</summary>
    public void Register(IDeviceProxy proxy)
    {
        var key = proxy.Context.IdentityKey;
        while (true)
        {
            if (_connections.TryAdd(key, proxy))
            {
                return;
            }

            if (_connections.TryGetValue(key, out var existing))
            {
                if (existing.Context.Epoch > proxy.Context.Epoch)
                {
                    proxy.Close(DisconnectReason.Takeover); // a newer connection won the race
                    return;
                }

                if (_connections.TryUpdate(key, proxy, existing))
                {
                    existing.Close(DisconnectReason.Takeover);
                    return;
                }
            }
        }
    }

    /// <summary>Removes <paramref name="proxy"/> if it is still the live connection of its identity.</summary>
    public bool Unregister(IDeviceProxy proxy)
        => _connections.TryRemove(new KeyValuePair<string, IDeviceProxy>(proxy.Context.IdentityKey, proxy));

    /// <summary>The live connection of a device or module.</summary>
    public bool TryGet(string deviceId, string? moduleId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IDeviceProxy? proxy)
        => _connections.TryGetValue(DeviceContext.IdentityKeyOf(deviceId, moduleId), out proxy);

    /// <summary>Closes the connection of a device (and, when <paramref name="moduleId"/> is null, of its modules).</summary>
    public int Close(string deviceId, string? moduleId, DisconnectReason reason)
    {
        int closed = 0;
        foreach (var (key, proxy) in _connections)
        {
            var context = proxy.Context;
            if (context.DeviceId == deviceId && (moduleId is null || context.ModuleId == moduleId))
            {
                if (_connections.TryRemove(new KeyValuePair<string, IDeviceProxy>(key, proxy)))
                {
                    proxy.Close(reason);
                    closed++;
                }
            }
        }

        return closed;
    }
}
