using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Amqp.Server;

/// <summary>The AMQP engine's log messages (source-generated).</summary>
internal static partial class AmqpLog
{
    [LoggerMessage(200, LogLevel.Debug, "AMQP {Connection}: closed ({Reason}).")]
    public static partial void Closed(ILogger logger, string connection, string reason);

    [LoggerMessage(201, LogLevel.Information, "AMQP {Connection}: closing with {Condition}: {Description}.")]
    public static partial void ClosingWithError(ILogger logger, string connection, string condition, string description);

    [LoggerMessage(202, LogLevel.Information, "AMQP {Connection}: SASL {Mechanism} refused.")]
    public static partial void SaslRefused(ILogger logger, string connection, string mechanism);

    [LoggerMessage(203, LogLevel.Warning, "AMQP {Connection}: connection failed.")]
    public static partial void Failed(ILogger logger, Exception exception, string connection);

    [LoggerMessage(204, LogLevel.Warning, "AMQP {Connection}: a link callback failed.")]
    public static partial void CallbackFailed(ILogger logger, Exception exception, string connection);
}
