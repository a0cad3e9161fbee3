using System.Diagnostics;

namespace Broker.LoadGenerator;

/// <summary>The shared schedule of one run, in <see cref="Stopwatch"/> ticks: figures count only inside the window.</summary>
internal sealed class RunClock(long sendStart, long windowStart, long windowEnd, CancellationToken stop)
{
    public long SendStart { get; } = sendStart;

    public long WindowStart { get; } = windowStart;

    public long WindowEnd { get; } = windowEnd;

    /// <summary>Cancelled at the end of the window: the send loops stop.</summary>
    public CancellationToken Stop { get; } = stop;

    public bool InWindow(long stamp) => stamp >= WindowStart && stamp <= WindowEnd;

    public static long ToNanoseconds(long stopwatchTicks)
        => Stopwatch.Frequency == 1_000_000_000 ? stopwatchTicks : (long)(stopwatchTicks * (1e9 / Stopwatch.Frequency));
}

/// <summary>One simulated device: a connection, a send loop and the figures it gathered inside the window.</summary>
internal abstract class SimulatedDevice(DeviceCredentials credentials, LoadOptions options, byte[] payload) : IAsyncDisposable
{
    protected DeviceCredentials Credentials { get; } = credentials;

    protected LoadOptions Options { get; } = options;

    protected byte[] Payload { get; } = payload;

    protected string Topic => $"devices/{Credentials.DeviceId}/messages/events/";

    /// <summary>PUBLISH→PUBACK (AMQP: transfer→Accepted) latencies of messages sent and acknowledged inside the window.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Publishes written inside the window.</summary>
    public long Published { get; protected set; }

    /// <summary>PUBACKs (AMQP: Accepted dispositions) received inside the window.</summary>
    public long Acknowledged { get; protected set; }

    /// <summary>Why the device stopped early, if it did.</summary>
    public Exception? Failure { get; protected set; }

    public static SimulatedDevice Create(DeviceCredentials credentials, LoadOptions options, byte[] payload)
        => options.Protocol == LoadProtocol.Amqp
            ? new AmqpRawDevice(credentials, options, payload)
            : options.Client == ClientKind.MqttNet
                ? new MqttNetDevice(credentials, options, payload)
                : new RawDevice(credentials, options, payload);

    /// <summary>Connects and waits for CONNACK 0; throws <see cref="LoadException"/> for any other answer.</summary>
    public abstract Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Publishes until <see cref="RunClock.Stop"/>; completes when the device has stopped sending.</summary>
    public abstract Task RunAsync(RunClock clock);

    /// <summary>Waits until the broker has answered everything sent (PUBACKs for QoS 1, a PINGRESP for QoS 0).</summary>
    public abstract Task DrainAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>Spreads the devices' schedules over one period, so that 100 devices do not all fire on the same tick.</summary>
    protected long StaggeredStart(RunClock clock)
    {
        var periodTicks = Stopwatch.Frequency * Options.Devices / Options.Rate;
        var index = (uint)Credentials.DeviceId.GetHashCode(StringComparison.Ordinal) % 1000;
        return clock.SendStart + (long)(periodTicks * index / 1000);
    }
}
