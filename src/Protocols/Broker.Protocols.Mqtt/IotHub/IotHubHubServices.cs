using Broker.Core.CloudToDevice;
using Broker.Core.Hub;
using Broker.Core.Methods;
using Broker.Core.Registry;
using Broker.Core.Storage;
using Broker.Core.Twins;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>The hub services an IoT Hub MQTT session calls: one set per broker, shared by every session.</summary>
public sealed class IotHubHubServices(IHubStore store, ConnectionRegistry connections, CloudToDeviceService cloudToDevice, MethodInvoker methods, TwinService twins)
{
    /// <summary>The store (telemetry, persistent sessions).</summary>
    public IHubStore Store { get; } = store;

    /// <summary>The live connections.</summary>
    public ConnectionRegistry Connections { get; } = connections;

    /// <summary>Cloud-to-device queues.</summary>
    public CloudToDeviceService CloudToDevice { get; } = cloudToDevice;

    /// <summary>Direct methods.</summary>
    public MethodInvoker Methods { get; } = methods;

    /// <summary>Device twins.</summary>
    public TwinService Twins { get; } = twins;

    /// <summary>The services composed over one store with default settings (benchmarks, tests).</summary>
    public static IotHubHubServices Create(IHubStore store, IdentityRegistry identities, ConnectionRegistry connections, TimeProvider time)
    {
        var options = new CloudToDeviceOptions();
        var cloudToDevice = new CloudToDeviceService(store, identities, connections, new FeedbackQueue(store, options, time), options, time);
        var twins = new TwinService(store, identities, connections, time, (deviceId, moduleId) => moduleId is null ? cloudToDevice.PendingCount(deviceId) : 0);
        return new IotHubHubServices(store, connections, cloudToDevice, new MethodInvoker(connections, identities, time), twins);
    }
}
