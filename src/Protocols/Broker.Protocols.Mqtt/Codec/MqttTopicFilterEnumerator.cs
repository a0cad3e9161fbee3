using System.Buffers;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>Walks the (already validated) topic filters of a <see cref="MqttUnsubscribePacket"/> without allocating.</summary>
public ref struct MqttTopicFilterEnumerator
{
    private MqttBodyReader _reader;

    internal MqttTopicFilterEnumerator(scoped in ReadOnlySequence<byte> filters)
    {
        _reader = new MqttBodyReader(filters);
        Current = default;
    }

    /// <summary>The current topic filter, a slice of the frame body.</summary>
    public ReadOnlySequence<byte> Current { get; private set; }

    /// <summary>Enables <c>foreach</c>.</summary>
    public readonly MqttTopicFilterEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next topic filter.</summary>
    public bool MoveNext()
    {
        if (!_reader.TryReadLengthPrefixed(out ReadOnlySequence<byte> filter))
        {
            return false;
        }

        Current = filter;
        return true;
    }
}
