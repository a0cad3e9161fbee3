namespace Broker.Protocols.Amqp.Server;

/// <summary>A message received on a link: settle it with <see cref="AmqpLink.Settle"/> unless the sender pre-settled it.</summary>
public readonly record struct AmqpIncomingDelivery(uint DeliveryId, bool Settled, uint MessageFormat);
