using Broker.Core.Hub;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// IoT Hub's MQTT topic grammar, matched on UTF-8 bytes without building strings (the telemetry path is hot).
/// </summary>
public static class IotHubTopics
{
    private static ReadOnlySpan<byte> Devices => "devices/"u8;
    private static ReadOnlySpan<byte> Modules => "/modules/"u8;
    private static ReadOnlySpan<byte> Events => "/messages/events"u8;
    private static ReadOnlySpan<byte> TwinGet => "$iothub/twin/GET/"u8;
    private static ReadOnlySpan<byte> TwinReported => "$iothub/twin/PATCH/properties/reported/"u8;
    private static ReadOnlySpan<byte> MethodResponse => "$iothub/methods/res/"u8;

    /// <summary>
    /// Classifies a PUBLISH topic for the identity <paramref name="deviceId"/>/<paramref name="moduleId"/>.
    /// For telemetry, <paramref name="propertyBag"/> is the URL-encoded bag after <c>events/</c> (a trailing
    /// <c>/</c> removed); for twin and method topics it is the query after <c>?</c>.
    /// </summary>
    public static IotHubTopicKind ClassifyPublish(ReadOnlySpan<byte> topic, ReadOnlySpan<byte> deviceId, ReadOnlySpan<byte> moduleId, out ReadOnlySpan<byte> propertyBag)
    {
        propertyBag = default;
        if (topic.StartsWith(Devices))
        {
            var rest = topic[Devices.Length..];
            if (!TryConsumeIdentity(ref rest, deviceId, moduleId) || !rest.StartsWith(Events))
            {
                return IotHubTopicKind.Invalid;
            }

            rest = rest[Events.Length..];
            if (rest.Length > 0)
            {
                if (rest[0] != (byte)'/')
                {
                    return IotHubTopicKind.Invalid;
                }

                rest = rest[1..];
                if (rest.Length > 0 && rest[^1] == (byte)'/')
                {
                    rest = rest[..^1]; // the C# SDK ends the bag with '/'
                }

                if (rest.IndexOf((byte)'/') >= 0)
                {
                    return IotHubTopicKind.Invalid;
                }
            }

            propertyBag = rest;
            return IotHubTopicKind.Telemetry;
        }

        if (topic.StartsWith(TwinGet))
        {
            return QueryAfter(topic[TwinGet.Length..], out propertyBag) ? IotHubTopicKind.TwinGet : IotHubTopicKind.Invalid;
        }

        if (topic.StartsWith(TwinReported))
        {
            return QueryAfter(topic[TwinReported.Length..], out propertyBag) ? IotHubTopicKind.TwinReportedPatch : IotHubTopicKind.Invalid;
        }

        if (topic.StartsWith(MethodResponse))
        {
            var rest = topic[MethodResponse.Length..];
            int slash = rest.IndexOf((byte)'/');
            if (slash <= 0 || !IsDigits(rest[..slash]))
            {
                return IotHubTopicKind.Invalid;
            }

            return QueryAfter(rest[(slash + 1)..], out propertyBag) ? IotHubTopicKind.MethodResponse : IotHubTopicKind.Invalid;
        }

        return IotHubTopicKind.Invalid;
    }

    /// <summary>
    /// The QoS granted for a SUBSCRIBE filter of this identity (QoS 2 is granted as 1), or null for a filter outside
    /// the grammar, which closes the connection.
    /// </summary>
    public static MqttSubscribeReturnCode? GrantSubscription(ReadOnlySpan<byte> filter, ReadOnlySpan<byte> deviceId, ReadOnlySpan<byte> moduleId, MqttQualityOfService requested)
    {
        var granted = requested == MqttQualityOfService.AtMostOnce ? MqttSubscribeReturnCode.GrantedQos0 : MqttSubscribeReturnCode.GrantedQos1;
        if (filter.SequenceEqual("$iothub/twin/res/#"u8)
            || filter.SequenceEqual("$iothub/twin/PATCH/properties/desired/#"u8)
            || filter.SequenceEqual("$iothub/methods/POST/#"u8))
        {
            return granted;
        }

        if (filter.StartsWith(Devices))
        {
            var rest = filter[Devices.Length..];
            if (TryConsumeIdentity(ref rest, deviceId, moduleId)
                && (rest.SequenceEqual("/messages/devicebound/#"u8) || (moduleId.Length > 0 && rest.SequenceEqual("/#"u8))))
            {
                return granted;
            }
        }

        return null;
    }

    /// <summary>The hub → device feature a granted filter turns on.</summary>
    public static DeviceSubscriptions FeatureOf(ReadOnlySpan<byte> filter)
    {
        if (filter.SequenceEqual("$iothub/twin/res/#"u8))
        {
            return DeviceSubscriptions.TwinResponses;
        }

        if (filter.SequenceEqual("$iothub/twin/PATCH/properties/desired/#"u8))
        {
            return DeviceSubscriptions.DesiredProperties;
        }

        if (filter.SequenceEqual("$iothub/methods/POST/#"u8))
        {
            return DeviceSubscriptions.Methods;
        }

        return filter.EndsWith("/messages/devicebound/#"u8) ? DeviceSubscriptions.CloudToDevice : DeviceSubscriptions.None;
    }

    /// <summary>The value of <c>$rid</c> in a twin or method topic's query, verbatim (it is echoed back as sent).</summary>
    public static bool TryGetRequestId(ReadOnlySpan<byte> query, out ReadOnlySpan<byte> requestId)
    {
        requestId = default;
        while (!query.IsEmpty)
        {
            int amp = query.IndexOf((byte)'&');
            var pair = amp < 0 ? query : query[..amp];
            if (pair.StartsWith("$rid="u8))
            {
                requestId = pair[5..];
                return !requestId.IsEmpty;
            }

            query = amp < 0 ? default : query[(amp + 1)..];
        }

        return false;
    }

    /// <summary>The status of a method response topic <c>$iothub/methods/res/{status}/?…</c>.</summary>
    public static bool TryGetMethodStatus(ReadOnlySpan<byte> topic, out int status)
    {
        status = 0;
        if (!topic.StartsWith(MethodResponse))
        {
            return false;
        }

        var rest = topic[MethodResponse.Length..];
        int slash = rest.IndexOf((byte)'/');
        return slash > 0 && System.Buffers.Text.Utf8Parser.TryParse(rest[..slash], out status, out int consumed) && consumed == slash;
    }

    private static bool TryConsumeIdentity(ref ReadOnlySpan<byte> rest, ReadOnlySpan<byte> deviceId, ReadOnlySpan<byte> moduleId)
    {
        if (!rest.StartsWith(deviceId))
        {
            return false;
        }

        rest = rest[deviceId.Length..];
        if (moduleId.Length == 0)
        {
            return rest.Length == 0 || rest[0] == (byte)'/';
        }

        if (!rest.StartsWith(Modules) || !rest[Modules.Length..].StartsWith(moduleId))
        {
            return false;
        }

        rest = rest[(Modules.Length + moduleId.Length)..];
        return rest.Length == 0 || rest[0] == (byte)'/';
    }

    private static bool QueryAfter(ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> query)
    {
        query = default;
        if (rest.Length == 0 || rest[0] != (byte)'?')
        {
            return false;
        }

        query = rest[1..];
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
        }

        return true;
    }
}
