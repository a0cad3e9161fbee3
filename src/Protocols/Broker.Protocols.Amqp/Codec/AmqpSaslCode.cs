namespace Broker.Protocols.Amqp.Codec;

/// <summary>The SASL outcome code (§5.3.3.6).</summary>
public enum AmqpSaslCode : byte
{
    Ok = 0,
    Auth = 1,
    Sys = 2,
    SysPerm = 3,
    SysTemp = 4,
}
