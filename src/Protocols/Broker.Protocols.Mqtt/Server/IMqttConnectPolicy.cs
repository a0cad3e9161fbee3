namespace Broker.Protocols.Mqtt.Server;

/// <summary>
/// The dialect hook of the generic MQTT engine: it authenticates a CONNECT and creates the session that applies
/// the dialect's topic grammar. The engine itself knows nothing of IoT Hub.
/// </summary>
public interface IMqttConnectPolicy
{
    /// <summary>Decides a CONNECT; <paramref name="client"/> is how the session will talk back to the device.</summary>
    ValueTask<MqttConnectDecision> ConnectAsync(MqttConnectRequest request, IMqttClient client, CancellationToken cancellationToken);
}
