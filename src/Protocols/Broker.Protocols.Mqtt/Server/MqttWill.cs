using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>The Will message of a CONNECT: published for the client when its connection ends without DISCONNECT.</summary>
public sealed record MqttWill(byte[] Topic, byte[] Payload, MqttQualityOfService Qos, bool Retain);
