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
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastDisconnect = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>A registry that no identity changes reach (tests).</summary>
    public ConnectionRegistry()
    {
        _time = TimeProvider.System;
    }

    /// <summary>A registry that closes the connections of identities as they are disabled or deleted.</summary>
    public ConnectionRegistry(IdentityRegistry identities, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(identities);
        _time = time ?? TimeProvider.System;
        identities.IdentityChanged += change => Close(change.DeviceId, change.ModuleId,
            change.Kind == IdentityChangeKind.Disabled ? DisconnectReason.DeviceDisabled : DisconnectReason.DeviceDeleted);
    }

    /// <summary>Raised after an identity connects (true) or its live connection goes away (false).</summary>
    public event Action<DeviceContext, bool>? ConnectionChanged;

    /// <summary>Raised when a live connection's <see cref="IDeviceProxy.Subscriptions"/> change (direct methods wait for it).</summary>
    public event Action<IDeviceProxy>? SubscriptionsChanged;

    /// <summary>How many identities are connected.</summary>
    public int Count => _connections.Count;

    /// <summary>Devices (not modules) with a live connection: IoT Hub's <c>connectedDeviceCount</c>.</summary>
    public int ConnectedDeviceCount => _connections.Values.Count(static proxy => proxy.Context.ModuleId is null);

    /// <summary>Registers <paramref name="proxy"/>; an older connection of the same identity is closed (takeover).</summary>
    public void Register(IDeviceProxy proxy)
    {
        var key = proxy.Context.IdentityKey;
        while (true)
        {
            if (_connections.TryAdd(key, proxy))
            {
                ConnectionChanged?.Invoke(proxy.Context, true);
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
                    ConnectionChanged?.Invoke(proxy.Context, true);
                    return;
                }
            }
        }
    }

    /// <summary>Removes <paramref name="proxy"/> if it is still the live connection of its identity.</summary>
    public bool Unregister(IDeviceProxy proxy)
    {
        if (!_connections.TryRemove(new KeyValuePair<string, IDeviceProxy>(proxy.Context.IdentityKey, proxy)))
        {
            return false;
        }

        _lastDisconnect[proxy.Context.IdentityKey] = _time.GetUtcNow();
        ConnectionChanged?.Invoke(proxy.Context, false);
        return true;
    }

    /// <summary>
    /// The registry's view of an identity's connection (IoT Hub's <c>connectionState</c> and
    /// <c>connectionStateUpdatedTime</c>): connected since when, or disconnected since when (null if never seen
    /// since the broker started).
    /// </summary>
    public (bool Connected, DateTimeOffset? Since) ConnectionStateOf(string deviceId, string? moduleId)
    {
        var key = DeviceContext.IdentityKeyOf(deviceId, moduleId);
        if (_connections.TryGetValue(key, out var proxy))
        {
            return (true, proxy.Context.ConnectedAt);
        }

        return (false, _lastDisconnect.TryGetValue(key, out var since) ? since : null);
    }

    /// <summary>
    /// <paramref name="device"/> with its connection state filled in from the live connections (the stored record does
    /// not keep it), as IoT Hub's registry reads show it.
    /// </summary>
    public Device WithConnectionState(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var (connected, since) = ConnectionStateOf(device.DeviceId, null);
        return device with
        {
            ConnectionState = connected ? DeviceConnectionState.Connected : DeviceConnectionState.Disconnected,
            ConnectionStateUpdatedTime = since ?? device.ConnectionStateUpdatedTime,
        };
    }

    /// <summary>Called by a connection after its subscriptions changed.</summary>
    public void NotifySubscriptionsChanged(IDeviceProxy proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        if (_connections.TryGetValue(proxy.Context.IdentityKey, out var live) && ReferenceEquals(live, proxy))
        {
            SubscriptionsChanged?.Invoke(proxy);
        }
    }

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
                    _lastDisconnect[key] = _time.GetUtcNow();
                    proxy.Close(reason);
                    ConnectionChanged?.Invoke(context, false);
                    closed++;
                }
            }
        }

        return closed;
    }
}
