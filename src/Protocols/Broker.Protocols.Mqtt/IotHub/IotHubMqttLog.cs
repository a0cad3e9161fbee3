using Broker.Core.Security;
using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>The IoT Hub MQTT dialect's log messages (source-generated).</summary>
internal static partial class IotHubMqttLog
{
    [LoggerMessage(200, LogLevel.Information, "MQTT {Connection}: {Identity} connected ({Method}).")]
    public static partial void Connected(ILogger logger, string connection, string identity, AuthMethod method);

    [LoggerMessage(201, LogLevel.Information, "MQTT {Connection}: client id {ClientId} does not match user name {UserName}; CONNACK 0x02.")]
    public static partial void IdentityRejected(ILogger logger, string connection, string clientId, string userName);

    [LoggerMessage(202, LogLevel.Information, "MQTT {Connection}: {ClientId} failed authentication ({Status}); CONNACK 0x05.")]
    public static partial void AuthenticationFailed(ILogger logger, string connection, string clientId, AuthStatus status);

    [LoggerMessage(203, LogLevel.Information, "MQTT {Connection}: {Identity} used topic {Topic} outside the hub's grammar; closing.")]
    public static partial void TopicRejected(ILogger logger, string connection, string identity, string topic);

    [LoggerMessage(204, LogLevel.Information, "MQTT {Connection}: {Identity} sent a {Bytes}-byte message, over the 256 KB limit; closing.")]
    public static partial void MessageTooLarge(ILogger logger, string connection, string identity, long bytes);

    [LoggerMessage(205, LogLevel.Error, "Telemetry of {Identity} could not be stored; closing its connection.")]
    public static partial void StorageFailed(ILogger logger, Exception exception, string identity);

    [LoggerMessage(206, LogLevel.Debug, "MQTT {Connection}: {Identity} answered method request {RequestId}, which is not waiting (timed out or unknown).")]
    public static partial void UnknownMethodResponse(ILogger logger, string connection, string identity, string requestId);

    [LoggerMessage(208, LogLevel.Information, "MQTT {Connection}: {ClientId} asked for a Will on {Topic} ({Bytes} bytes), not its own telemetry topic within 256 KB; CONNACK 0x05.")]
    public static partial void WillRejected(ILogger logger, string connection, string clientId, string topic, int bytes);

    [LoggerMessage(209, LogLevel.Information, "MQTT {Connection}: {Identity} went away without DISCONNECT; its Will was sent as telemetry.")]
    public static partial void WillSent(ILogger logger, string connection, string identity);

    [LoggerMessage(210, LogLevel.Warning, "MQTT {Connection}: the Will of {Identity} could not be stored.")]
    public static partial void WillFailed(ILogger logger, Exception exception, string connection, string identity);

    [LoggerMessage(207, LogLevel.Information, "MQTT {Connection}: {Identity} acknowledged a cloud-to-device message that could not be completed: {Reason}")]
    public static partial void CompleteFailed(ILogger logger, string connection, string identity, string reason);
}
