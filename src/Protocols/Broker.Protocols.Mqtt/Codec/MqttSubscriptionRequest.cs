namespace Broker.Protocols.Mqtt.Codec;

/// <summary>One topic filter and requested QoS to write in a SUBSCRIBE.</summary>
public readonly struct MqttSubscriptionRequest
{
    /// <summary>Creates a subscription request.</summary>
    public MqttSubscriptionRequest(ReadOnlyMemory<byte> filter, MqttQualityOfService qos)
    {
        Filter = filter;
        Qos = qos;
    }

    /// <summary>The UTF-8 topic filter.</summary>
    public ReadOnlyMemory<byte> Filter { get; }

    /// <summary>The requested maximum QoS.</summary>
    public MqttQualityOfService Qos { get; }
}
