using System.Buffers;
using System.Text;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>One topic filter of a decoded SUBSCRIBE and the QoS requested for it.</summary>
public readonly struct MqttSubscription
{
    internal MqttSubscription(in ReadOnlySequence<byte> filter, MqttQualityOfService requestedQos)
    {
        Filter = filter;
        RequestedQos = requestedQos;
    }

    /// <summary>The topic filter (validated), a slice of the frame body.</summary>
    public ReadOnlySequence<byte> Filter { get; }

    /// <summary>The maximum QoS the client asked for.</summary>
    public MqttQualityOfService RequestedQos { get; }

    /// <summary>The filter as a string, for cold paths.</summary>
    public string GetFilterString() => Encoding.UTF8.GetString(Filter);
}
