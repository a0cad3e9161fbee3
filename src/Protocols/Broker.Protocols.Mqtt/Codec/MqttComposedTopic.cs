namespace Broker.Protocols.Mqtt.Codec;

/// <summary>
/// A topic name given as up to four consecutive parts (e.g. <c>devices/</c> + id + <c>/messages/devicebound/</c> +
/// property bag), so a PUBLISH can be written without first concatenating its topic.
/// </summary>
public readonly ref struct MqttComposedTopic
{
    private readonly ReadOnlySpan<byte> _part0;
    private readonly ReadOnlySpan<byte> _part1;
    private readonly ReadOnlySpan<byte> _part2;
    private readonly ReadOnlySpan<byte> _part3;

    /// <summary>Composes a topic from up to four parts; unused parts are empty.</summary>
    public MqttComposedTopic(
        ReadOnlySpan<byte> part0,
        ReadOnlySpan<byte> part1 = default,
        ReadOnlySpan<byte> part2 = default,
        ReadOnlySpan<byte> part3 = default)
    {
        _part0 = part0;
        _part1 = part1;
        _part2 = part2;
        _part3 = part3;
    }

    /// <summary>The length of the whole topic in bytes.</summary>
    public int Length => _part0.Length + _part1.Length + _part2.Length + _part3.Length;

    /// <summary>Copies the whole topic to <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        _part0.CopyTo(destination);
        destination = destination[_part0.Length..];
        _part1.CopyTo(destination);
        destination = destination[_part1.Length..];
        _part2.CopyTo(destination);
        _part3.CopyTo(destination[_part2.Length..]);
    }
}
