using System.Buffers;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>Walks the (already validated) subscriptions of a <see cref="MqttSubscribePacket"/> without allocating.</summary>
public ref struct MqttSubscriptionEnumerator
{
    private MqttBodyReader _reader;

    internal MqttSubscriptionEnumerator(scoped in ReadOnlySequence<byte> subscriptions)
    {
        _reader = new MqttBodyReader(subscriptions);
        Current = default;
    }

    /// <summary>The current subscription.</summary>
    public MqttSubscription Current { get; private set; }

    /// <summary>Enables <c>foreach</c>.</summary>
    public readonly MqttSubscriptionEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next subscription.</summary>
    public bool MoveNext()
    {
        if (!_reader.TryReadLengthPrefixed(out ReadOnlySequence<byte> filter) || !_reader.TryReadByte(out byte options))
        {
            return false;
        }

        Current = new MqttSubscription(filter, (MqttQualityOfService)options);
        return true;
    }
}
