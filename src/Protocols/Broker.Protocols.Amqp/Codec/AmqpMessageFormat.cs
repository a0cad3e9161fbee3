namespace Broker.Protocols.Amqp.Codec;

/// <summary>Message format codes of the transfer performative.</summary>
public static class AmqpMessageFormat
{
    /// <summary>A standard AMQP 1.0 message (§3.2).</summary>
    public const uint Standard = 0;

    /// <summary>
    /// Microsoft's batch format (the C# SDKs' SendEventBatch): each data section is one complete encoded message.
    /// </summary>
    public const uint Batch = 0x80013700;
}
