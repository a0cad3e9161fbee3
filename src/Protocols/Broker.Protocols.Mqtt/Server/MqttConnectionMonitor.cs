using Microsoft.Extensions.Options;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>
/// One timer over <see cref="TimeProvider"/> for every connection: it closes connections whose keep-alive or
/// credentials have run out. A sweep per interval costs one pass over the connections, no timer per connection.
/// </summary>
public sealed class MqttConnectionMonitor : IDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<MqttConnection> _connections = [];
    private readonly TimeProvider _time;
    private readonly ITimer _timer;

    /// <summary>Starts the sweep timer.</summary>
    public MqttConnectionMonitor(IOptions<MqttServerOptions> options, TimeProvider time)
    {
        _time = time;
        var interval = options.Value.SweepInterval;
        _timer = time.CreateTimer(_ => Sweep(), null, interval, interval);
    }

    /// <summary>Raised once a new connection is watched (its CONNECT deadline runs from its accept).</summary>
    public event Action<MqttConnection>? Watching;

    /// <summary>How many connections are watched.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _connections.Count;
            }
        }
    }

    internal void Add(MqttConnection connection)
    {
        lock (_lock)
        {
            _connections.Add(connection);
        }

        Watching?.Invoke(connection);
    }

    internal void Remove(MqttConnection connection)
    {
        lock (_lock)
        {
            _connections.Remove(connection);
        }
    }

    /// <summary>Checks every connection's deadlines now (the timer calls it each interval).</summary>
    public void Sweep()
    {
        MqttConnection[] snapshot;
        lock (_lock)
        {
            snapshot = [.. _connections];
        }

        long now = _time.GetTimestamp();
        var utcNow = _time.GetUtcNow();
        foreach (var connection in snapshot)
        {
            connection.CheckDeadlines(now, utcNow);
        }
    }

    /// <summary>Stops the timer.</summary>
    public void Dispose() => _timer.Dispose();
}
