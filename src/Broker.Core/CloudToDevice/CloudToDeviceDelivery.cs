namespace Broker.Core.CloudToDevice;

/// <summary>A message handed to a device connection, invisible to others until settled or until its lock runs out.</summary>
/// <param name="Message">The message with its body.</param>
/// <param name="LockToken">Settles the delivery (AMQP's delivery tag; MQTT maps its packet id to it).</param>
public sealed record CloudToDeviceDelivery(StoredCloudToDeviceMessage Message, Guid LockToken);
