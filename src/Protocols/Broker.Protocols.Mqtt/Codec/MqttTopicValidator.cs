using System.Buffers;
using System.Text.Unicode;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>MQTT 3.1.1 rules for UTF-8 strings (§1.5.3), topic names and topic filters (§4.7).</summary>
public static class MqttTopicValidator
{
    // Copies of strings split across segments up to this size stay on the stack; longer ones use the shared pool.
    private const int StackCopyLimit = 256;

    private static readonly SearchValues<byte> s_topicNameForbidden = SearchValues.Create(0, (byte)'+', (byte)'#');

    /// <summary>
    /// Checks an MQTT UTF-8 string: well-formed UTF-8 (which already excludes surrogates and overlong forms) and no
    /// U+0000. Control characters U+0001-U+001F and U+007F-U+009F are allowed: the spec only says "should not".
    /// </summary>
    public static bool IsValidString(ReadOnlySpan<byte> value)
        => !value.Contains((byte)0) && Utf8.IsValid(value);

    /// <summary>Checks a topic name as used by PUBLISH and the Will: non-empty, valid string, no wildcards.</summary>
    public static MqttProtocolError ValidateTopicName(ReadOnlySpan<byte> topic)
    {
        if (topic.IsEmpty)
        {
            return MqttProtocolError.EmptyTopic;
        }

        int found = topic.IndexOfAny(s_topicNameForbidden);
        if (found >= 0)
        {
            return topic[found] == 0 ? MqttProtocolError.InvalidUtf8String : MqttProtocolError.WildcardInTopicName;
        }

        // No ASCII byte ever occurs inside a multi-byte UTF-8 sequence, so the byte scan above is exact.
        return Utf8.IsValid(topic) ? MqttProtocolError.None : MqttProtocolError.InvalidUtf8String;
    }

    /// <summary>
    /// Checks a topic filter: non-empty, valid string, '#' only alone in the last level, '+' only alone in a level.
    /// </summary>
    public static MqttProtocolError ValidateTopicFilter(ReadOnlySpan<byte> filter)
    {
        if (filter.IsEmpty)
        {
            return MqttProtocolError.EmptyTopic;
        }

        if (!IsValidString(filter))
        {
            return MqttProtocolError.InvalidUtf8String;
        }

        for (int i = filter.IndexOfAny((byte)'+', (byte)'#'); i >= 0; i = NextWildcard(filter, i + 1))
        {
            bool startsLevel = i == 0 || filter[i - 1] == '/';
            bool endsLevel = i == filter.Length - 1 || filter[i + 1] == '/';
            if (!startsLevel || !endsLevel || (filter[i] == '#' && i != filter.Length - 1))
            {
                return MqttProtocolError.InvalidTopicFilter;
            }
        }

        return MqttProtocolError.None;
    }

    /// <summary>Checks an MQTT UTF-8 string held in a sequence.</summary>
    public static bool IsValidString(in ReadOnlySequence<byte> value)
        => value.IsSingleSegment ? IsValidString(value.FirstSpan) : Validate(value, Kind.String) == MqttProtocolError.None;

    /// <summary>Checks a topic name held in a sequence.</summary>
    public static MqttProtocolError ValidateTopicName(in ReadOnlySequence<byte> topic)
        => topic.IsSingleSegment ? ValidateTopicName(topic.FirstSpan) : Validate(topic, Kind.TopicName);

    /// <summary>Checks a topic filter held in a sequence.</summary>
    public static MqttProtocolError ValidateTopicFilter(in ReadOnlySequence<byte> filter)
        => filter.IsSingleSegment ? ValidateTopicFilter(filter.FirstSpan) : Validate(filter, Kind.TopicFilter);

    private static int NextWildcard(ReadOnlySpan<byte> filter, int start)
    {
        int next = filter[start..].IndexOfAny((byte)'+', (byte)'#');
        return next < 0 ? -1 : start + next;
    }

    // Strings are at most 65,535 bytes; one split across segments is rare, so it is validated from a copy.
    private static MqttProtocolError Validate(in ReadOnlySequence<byte> value, Kind kind)
    {
        int length = (int)value.Length;
        byte[]? rented = null;
        Span<byte> copy = length <= StackCopyLimit
            ? stackalloc byte[StackCopyLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            copy = copy[..length];
            value.CopyTo(copy);
            return kind switch
            {
                Kind.TopicName => ValidateTopicName(copy),
                Kind.TopicFilter => ValidateTopicFilter(copy),
                _ => IsValidString(copy) ? MqttProtocolError.None : MqttProtocolError.InvalidUtf8String,
            };
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private enum Kind
    {
        String,
        TopicName,
        TopicFilter,
    }
}
