using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>The dialect's answer to a CONNECT: a CONNACK code and, when accepted, the session that serves it.</summary>
public readonly record struct MqttConnectDecision(MqttConnectReturnCode ReturnCode, IMqttSession? Session, bool SessionPresent = false)
{
    /// <summary>A refusal with <paramref name="code"/>.</summary>
    public static MqttConnectDecision Refuse(MqttConnectReturnCode code) => new(code, null);

    /// <summary>Acceptance served by <paramref name="session"/>.</summary>
    public static MqttConnectDecision Accept(IMqttSession session, bool sessionPresent = false) => new(MqttConnectReturnCode.Accepted, session, sessionPresent);
}
