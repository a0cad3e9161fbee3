namespace Broker.Protocols.Mqtt.Codec;

/// <summary>Maps a <see cref="MqttProtocolError"/> to the action a connection handler must take.</summary>
public static class MqttProtocolErrorExtensions
{
    /// <summary>
    /// Gets the CONNACK return code to send before closing, for the CONNECT errors the spec answers with a
    /// CONNACK. Every other error closes the connection without a reply (§4.8).
    /// </summary>
    public static bool TryGetConnectReturnCode(this MqttProtocolError error, out MqttConnectReturnCode returnCode)
    {
        switch (error)
        {
            case MqttProtocolError.UnsupportedProtocolLevel:
                returnCode = MqttConnectReturnCode.UnacceptableProtocolVersion;
                return true;
            case MqttProtocolError.ClientIdentifierRejected:
                returnCode = MqttConnectReturnCode.IdentifierRejected;
                return true;
            default:
                returnCode = MqttConnectReturnCode.Accepted;
                return false;
        }
    }
}
