using System.Buffers;
using Broker.Core.Hub;
using Broker.Protocols.Amqp.Server;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>
/// The hub's handle on one device or module identity connected over AMQP: its links on one connection. Registered
/// with the <see cref="ConnectionRegistry"/> when its first link attaches (a newer connection of the identity takes
/// over, as over MQTT) and unregistered when its last link goes.
/// </summary>
internal sealed class AmqpDeviceProxy : IDeviceProxy
{
    private readonly IotHubAmqpConnection _connection;
    private readonly Lock _lock = new();
    private readonly HashSet<AmqpLink> _links = [];
    private readonly ArrayBufferWriter<byte> _scratch = new(1024);
    private readonly Dictionary<string, AmqpOutgoing> _twinRepliesByChannel = new(StringComparer.Ordinal);
    private AmqpOutgoing? _twinReplies;
    private AmqpOutgoing? _methodRequests;
    private CloudToDeviceEndpoint? _cloudToDevice;
    private bool _desiredSubscribed;
    private bool _closed;

    public AmqpDeviceProxy(IotHubAmqpConnection connection, DeviceContext context)
    {
        _connection = connection;
        Context = context;
    }

    public DeviceContext Context { get; }

    public IotHubAmqpHub Hub => _connection.Hub;

    public bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }

    public DeviceSubscriptions Subscriptions
    {
        get
        {
            lock (_lock)
            {
                var subscriptions = DeviceSubscriptions.None;
                if (_cloudToDevice is not null)
                {
                    subscriptions |= DeviceSubscriptions.CloudToDevice;
                }

                if (_methodRequests is not null)
                {
                    subscriptions |= DeviceSubscriptions.Methods;
                }

                if (_twinReplies is not null)
                {
                    subscriptions |= DeviceSubscriptions.TwinResponses;
                    if (_desiredSubscribed)
                    {
                        subscriptions |= DeviceSubscriptions.DesiredProperties;
                    }
                }

                return subscriptions;
            }
        }
    }

    public AmqpOutgoing? TwinReplies
    {
        get
        {
            lock (_lock)
            {
                return _twinReplies;
            }
        }
    }

    /// <summary>Adds a link; false when the proxy was closed meanwhile (the caller makes a new one).</summary>
    /// <remarks>
    /// A twin receiver link is remembered under its <c>com.microsoft:channel-correlation-id</c> (<paramref name="channel"/>),
    /// so replies go to the receiver paired with the sender the request came on; the latest one also carries desired
    /// notifications and answers requests from links without a channel.
    /// </remarks>
    public bool AddLink(AmqpLink link, AmqpOutgoing? twinReplies = null, AmqpOutgoing? methodRequests = null, CloudToDeviceEndpoint? cloudToDevice = null,
        string? channel = null)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            _links.Add(link);
            if (twinReplies is not null && channel is not null)
            {
                _twinRepliesByChannel[channel] = twinReplies;
            }

            _twinReplies = twinReplies ?? _twinReplies;
            _methodRequests = methodRequests ?? _methodRequests;
            _cloudToDevice = cloudToDevice ?? _cloudToDevice;
        }

        if (twinReplies is not null || methodRequests is not null || cloudToDevice is not null)
        {
            Hub.Connections.NotifySubscriptionsChanged(this);
        }

        return true;
    }

    /// <summary>A link of this identity detached.</summary>
    public void RemoveLink(AmqpLink link)
    {
        bool last;
        bool changed = false;
        lock (_lock)
        {
            if (!_links.Remove(link))
            {
                return;
            }

            foreach (var (channel, replies) in _twinRepliesByChannel)
            {
                if (replies.Link == link)
                {
                    _twinRepliesByChannel.Remove(channel);
                    break;
                }
            }

            if (_twinReplies?.Link == link)
            {
                _twinReplies = null;
                _desiredSubscribed = false;
                changed = true;
            }

            if (_methodRequests?.Link == link)
            {
                _methodRequests = null;
                changed = true;
            }

            if (_cloudToDevice?.Link == link)
            {
                _cloudToDevice = null;
                changed = true;
            }

            last = _links.Count == 0 && !_closed;
            if (last)
            {
                _closed = true;
            }
        }

        if (last)
        {
            Unregister();
        }
        else if (changed)
        {
            Hub.Connections.NotifySubscriptionsChanged(this);
        }
    }

    public void SetDesiredSubscription(bool subscribed)
    {
        lock (_lock)
        {
            _desiredSubscribed = subscribed;
        }

        Hub.Connections.NotifySubscriptionsChanged(this);
    }

    /// <summary>The connection is gone (its links' detaches came first).</summary>
    public void OnConnectionClosed()
    {
        bool unregister;
        lock (_lock)
        {
            unregister = !_closed;
            _closed = true;
        }

        if (unregister)
        {
            Unregister();
        }
    }

    public void Close(DisconnectReason reason)
    {
        List<AmqpLink> links;
        lock (_lock)
        {
            _closed = true;
            links = [.. _links];
        }

        _connection.RemoveProxy(this);
        (string condition, string description) = reason switch
        {
            DisconnectReason.Takeover => ("amqp:link:stolen", "A newer connection of this identity took over."),
            DisconnectReason.DeviceDisabled => ("amqp:unauthorized-access", "The identity was disabled."),
            DisconnectReason.DeviceDeleted => ("amqp:not-found", "The identity was deleted."),
            DisconnectReason.CredentialsExpired => ("amqp:unauthorized-access", "The credentials expired."),
            DisconnectReason.ServerShutdown => ("amqp:connection:forced", "The broker is shutting down."),
            _ => ("amqp:link:detach-forced", "The hub closed the link."),
        };
        foreach (var link in links)
        {
            link.Detach(condition, description); // the cloud-to-device link releases its locks as it detaches
        }
    }

    public bool SendMethodRequest(string methodName, string requestId, ReadOnlyMemory<byte> payload)
    {
        lock (_lock)
        {
            if (_methodRequests is not { } link)
            {
                return false;
            }

            _scratch.ResetWrittenCount();
            IotHubAmqpMessages.WriteMethodRequest(_scratch, requestId, methodName, payload.Span);
            return link.Send(_scratch.WrittenSpan);
        }
    }

    public void SendDesiredPropertiesPatch(long version, ReadOnlyMemory<byte> patch)
    {
        lock (_lock)
        {
            if (_twinReplies is not { } link || !_desiredSubscribed)
            {
                return;
            }

            _scratch.ResetWrittenCount();
            IotHubAmqpMessages.WriteDesiredPatch(_scratch, version, patch.Span);
            link.Send(_scratch.WrittenSpan);
        }
    }

    /// <summary>
    /// Sends a twin reply on the receiver link paired with the request's sender link by <paramref name="channel"/>
    /// (<c>com.microsoft:channel-correlation-id</c>), or on the latest twin receiver link when there is no such pair.
    /// </summary>
    public void SendTwinReply(string? channel, ReadOnlySpan<byte> correlationId, int status, long? version, ReadOnlySpan<byte> body)
    {
        lock (_lock)
        {
            var link = channel is not null && _twinRepliesByChannel.TryGetValue(channel, out var paired) ? paired : _twinReplies;
            if (link is null)
            {
                return;
            }

            _scratch.ResetWrittenCount();
            IotHubAmqpMessages.WriteTwinReply(_scratch, correlationId, status, version, body);
            link.Send(_scratch.WrittenSpan);
        }
    }

    public void CloudToDeviceAvailable()
    {
        CloudToDeviceEndpoint? endpoint;
        lock (_lock)
        {
            endpoint = _cloudToDevice;
        }

        endpoint?.Pump();
    }

    private void Unregister()
    {
        _connection.RemoveProxy(this);
        Hub.Connections.Unregister(this);
    }
}
