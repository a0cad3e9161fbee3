using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>The MQTT engine's log messages (source-generated).</summary>
internal static partial class MqttLog
{
    [LoggerMessage(100, LogLevel.Debug, "MQTT {Connection}: closed ({Reason}).")]
    public static partial void Closed(ILogger logger, string connection, string reason);

    [LoggerMessage(101, LogLevel.Information, "MQTT {Connection}: malformed packet ({Error}); closing.")]
    public static partial void Malformed(ILogger logger, string connection, Codec.MqttProtocolError error);

    [LoggerMessage(102, LogLevel.Information, "MQTT {Connection}: CONNECT refused with {Code}.")]
    public static partial void ConnectRefused(ILogger logger, string connection, Codec.MqttConnectReturnCode code);

    [LoggerMessage(103, LogLevel.Warning, "MQTT {Connection}: connection failed.")]
    public static partial void Failed(ILogger logger, Exception exception, string connection);
}
