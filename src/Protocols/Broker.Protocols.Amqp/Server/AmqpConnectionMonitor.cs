using Microsoft.Extensions.Options;

namespace Broker.Protocols.Amqp.Server;

/// <summary>
/// One timer over <see cref="TimeProvider"/> for every AMQP connection: open deadlines, idle timeouts and the
/// heartbeats (empty frames) peers ask for. A sweep per interval, no timer per connection.
/// </summary>
public sealed class AmqpConnectionMonitor : IDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<AmqpConnection> _connections = [];
    private readonly TimeProvider _time;
    private readonly ITimer _timer;

    /// <summary>Starts the sweep timer.</summary>
    public AmqpConnectionMonitor(IOptions<AmqpServerOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        TimeSpan interval = options.Value.SweepInterval;
        _timer = time.CreateTimer(_ => Sweep(), null, interval, interval);
    }

    /// <summary>Raised once a new connection is watched.</summary>
    public event Action<AmqpConnection>? Watching;

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

    internal void Add(AmqpConnection connection)
    {
        lock (_lock)
        {
            _connections.Add(connection);
        }

        Watching?.Invoke(connection);
    }

    internal void Remove(AmqpConnection connection)
    {
        lock (_lock)
        {
            _connections.Remove(connection);
        }
    }

    /// <summary>Checks every connection's deadlines now (the timer calls it each interval).</summary>
    public void Sweep()
    {
        AmqpConnection[] snapshot;
        lock (_lock)
        {
            snapshot = [.. _connections];
        }

        long now = _time.GetTimestamp();
        foreach (AmqpConnection connection in snapshot)
        {
            connection.CheckDeadlines(now);
        }
    }

    /// <summary>Stops the timer.</summary>
    public void Dispose() => _timer.Dispose();
}
