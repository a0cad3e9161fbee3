using Broker.Core.Hub;
using Broker.Core.Security;
using Broker.Protocols.Amqp.Server;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>
/// What one AMQP connection holds for the hub: the identities it authenticated (CBS tokens, SASL PLAIN, TLS
/// certificates), each with a timer that detaches the links it authorised when its token expires; the links by
/// identity; and one <see cref="AmqpDeviceProxy"/> per connected device or module identity.
/// </summary>
internal sealed class IotHubAmqpConnection
{
    /// <summary>The identity key of a service policy's grant.</summary>
    public const string ServiceIdentity = "$service";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Grant> _grants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AmqpDeviceProxy> _proxies = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private bool _closed;

    public IotHubAmqpConnection(IotHubAmqpHub hub, AmqpConnectionInfo info, TimeProvider time)
    {
        Hub = hub;
        Info = info;
        _time = time;
    }

    public IotHubAmqpHub Hub { get; }

    public AmqpConnectionInfo Info { get; }

    /// <summary>The <c>$cbs</c> link the hub answers put-token requests on.</summary>
    public AmqpOutgoing? CbsReplies { get; set; }

    /// <summary>Records (or refreshes) what a token or certificate proved for <paramref name="identity"/>.</summary>
    public void SetGrant(string identity, AuthResult result)
    {
        List<AmqpLink>? expired = null;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            if (!_grants.TryGetValue(identity, out var grant))
            {
                grant = new Grant(identity);
                _grants.Add(identity, grant);
            }

            grant.Result = result;
            grant.Timer?.Dispose();
            grant.Timer = null;
            grant.Version++;
            if (result.ExpiresAt is { } expiresAt)
            {
                var due = expiresAt - _time.GetUtcNow();
                if (due <= TimeSpan.Zero)
                {
                    expired = TakeLinks(grant);
                }
                else
                {
                    long version = grant.Version;
                    grant.Timer = _time.CreateTimer(static state =>
                    {
                        var (connection, g, v) = ((IotHubAmqpConnection, Grant, long))state!;
                        connection.Expire(g, v);
                    }, (this, grant, version), due, Timeout.InfiniteTimeSpan);
                }
            }
        }

        DetachExpired(expired);
    }

    /// <summary>The grant for <paramref name="identity"/>, if it has one that has not expired.</summary>
    public bool TryGetGrant(string identity, out AuthResult result)
    {
        lock (_lock)
        {
            if (_grants.TryGetValue(identity, out var grant) && (grant.Result.ExpiresAt is not { } expiresAt || expiresAt > _time.GetUtcNow()))
            {
                result = grant.Result;
                return true;
            }
        }

        result = default;
        return false;
    }

    /// <summary>Records that <paramref name="link"/> was authorised by <paramref name="identity"/>'s grant; false if the connection is gone.</summary>
    public bool AddLink(string identity, AmqpLink link)
    {
        lock (_lock)
        {
            if (_closed || !_grants.TryGetValue(identity, out var grant))
            {
                return false;
            }

            grant.Links.Add(link);
            return true;
        }
    }

    public void RemoveLink(string identity, AmqpLink link)
    {
        lock (_lock)
        {
            if (_grants.TryGetValue(identity, out var grant))
            {
                grant.Links.Remove(link);
            }
        }
    }

    /// <summary>The live proxy of an identity on this connection, created (and registered with the hub) on first use.</summary>
    public AmqpDeviceProxy GetOrCreateProxy(string deviceId, string? moduleId, AuthResult result, out bool created)
    {
        string key = DeviceContext.IdentityKeyOf(deviceId, moduleId);
        lock (_lock)
        {
            if (_proxies.TryGetValue(key, out var existing) && !existing.IsClosed)
            {
                created = false;
                return existing;
            }

            var context = new DeviceContext(deviceId, moduleId, ProtocolKind.Amqp, result.Method, result.GenerationId, _time.GetUtcNow(), result.ExpiresAt);
            var proxy = new AmqpDeviceProxy(this, context);
            _proxies[key] = proxy;
            created = true;
            return proxy;
        }
    }

    /// <summary>A proxy lost its last link (or was closed): forget it.</summary>
    public void RemoveProxy(AmqpDeviceProxy proxy)
    {
        lock (_lock)
        {
            if (_proxies.TryGetValue(proxy.Context.IdentityKey, out var current) && ReferenceEquals(current, proxy))
            {
                _proxies.Remove(proxy.Context.IdentityKey);
            }
        }
    }

    /// <summary>The connection is gone: stop the timers.</summary>
    public void Close()
    {
        List<AmqpDeviceProxy> proxies;
        lock (_lock)
        {
            _closed = true;
            foreach (var grant in _grants.Values)
            {
                grant.Timer?.Dispose();
                grant.Links.Clear();
            }

            _grants.Clear();
            proxies = [.. _proxies.Values];
            _proxies.Clear();
        }

        foreach (var proxy in proxies)
        {
            proxy.OnConnectionClosed();
        }
    }

    private void Expire(Grant grant, long version)
    {
        List<AmqpLink> links;
        lock (_lock)
        {
            if (grant.Version != version || !_grants.TryGetValue(grant.Identity, out var current) || !ReferenceEquals(current, grant))
            {
                return; // refreshed meanwhile
            }

            links = TakeLinks(grant);
        }

        DetachExpired(links);
    }

    private List<AmqpLink> TakeLinks(Grant grant)
    {
        _grants.Remove(grant.Identity);
        grant.Timer?.Dispose();
        grant.Timer = null;
        var links = grant.Links.ToList();
        grant.Links.Clear();
        return links;
    }

    private void DetachExpired(List<AmqpLink>? links)
    {
        if (links is null)
        {
            return;
        }

        foreach (var link in links)
        {
            link.Detach("amqp:unauthorized-access", "The token that authorised this link expired.");
        }
    }

    private sealed class Grant(string identity)
    {
        public string Identity { get; } = identity;

        public AuthResult Result { get; set; }

        public ITimer? Timer { get; set; }

        public long Version { get; set; }

        public HashSet<AmqpLink> Links { get; } = [];
    }
}
