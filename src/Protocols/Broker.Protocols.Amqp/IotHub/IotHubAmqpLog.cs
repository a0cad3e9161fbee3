using Broker.Core.Security;
using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>The IoT Hub AMQP links' log messages (source-generated).</summary>
internal static partial class IotHubAmqpLog
{
    [LoggerMessage(300, LogLevel.Information, "AMQP {Connection}: {Identity} authenticated ({Method}, {How}).")]
    public static partial void Authenticated(ILogger logger, string connection, string identity, AuthMethod method, string how);

    [LoggerMessage(301, LogLevel.Information, "AMQP {Connection}: authentication of {Identity} failed ({Status}, {How}).")]
    public static partial void AuthenticationFailed(ILogger logger, string connection, string identity, AuthStatus status, string how);

    [LoggerMessage(302, LogLevel.Information, "AMQP {Connection}: attach to {Address} refused ({Condition}).")]
    public static partial void AttachRefused(ILogger logger, string connection, string address, string condition);

    [LoggerMessage(303, LogLevel.Warning, "AMQP: storing for {Identity} failed.")]
    public static partial void StorageFailed(ILogger logger, Exception exception, string identity);

    [LoggerMessage(304, LogLevel.Information, "AMQP: settling a cloud-to-device message of {Identity} failed: {Reason}.")]
    public static partial void SettleFailed(ILogger logger, string identity, string reason);

    [LoggerMessage(305, LogLevel.Information, "AMQP: {Identity} answered unknown method request {RequestId}.")]
    public static partial void UnknownMethodResponse(ILogger logger, string identity, string requestId);

    [LoggerMessage(306, LogLevel.Information, "AMQP: feedback settlement failed: {Reason}.")]
    public static partial void FeedbackFailed(ILogger logger, string reason);
}
