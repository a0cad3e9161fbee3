namespace Broker.Protocols.Amqp.Codec;

/// <summary>A performative (or SASL frame body) that <see cref="AmqpFrameWriter"/> can frame.</summary>
public interface IAmqpPerformative
{
    /// <summary>Writes the described list, descriptor included.</summary>
    void Encode(ref AmqpWriter writer);
}
