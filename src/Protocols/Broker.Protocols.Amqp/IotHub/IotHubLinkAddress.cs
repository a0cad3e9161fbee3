namespace Broker.Protocols.Amqp.IotHub;

/// <summary>What an IoT Hub link address names.</summary>
internal enum IotHubLinkKind
{
    Unknown,
    Cbs,
    Telemetry,
    CloudToDevice,
    Twin,
    Methods,
    ServiceCloudToDevice,
    ServiceFeedback,
}

/// <summary>
/// Parses IoT Hub link addresses: <c>/devices/{id}[/modules/{mid}]/messages/events</c>, <c>…/messages/deviceBound</c>,
/// <c>…/twin</c>, <c>…/methods/deviceBound</c>, <c>/messages/deviceBound</c>, <c>/messages/serviceBound/feedback</c> and
/// <c>$cbs</c>; absolute <c>amqps://host[:port]/…</c> forms too, literals matched case-insensitively, ids URL-decoded.
/// </summary>
internal readonly record struct IotHubLinkAddress(IotHubLinkKind Kind, string? DeviceId, string? ModuleId)
{
    public static IotHubLinkAddress Parse(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return default;
        }

        ReadOnlySpan<char> path = address.AsSpan();
        int scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            path = path[(scheme + 3)..];
            int slash = path.IndexOf('/');
            path = slash < 0 ? default : path[slash..];
        }

        int query = path.IndexOf('?');
        if (query >= 0)
        {
            path = path[..query];
        }

        Span<Range> ranges = stackalloc Range[9];
        path = path.Trim('/');
        int count = path.Split(ranges, '/');
        if (count > 8)
        {
            return default;
        }

        var segments = new string[count];
        for (int i = 0; i < count; i++)
        {
            segments[i] = path[ranges[i]].ToString();
        }

        if (count == 1 && Is(segments[0], "$cbs"))
        {
            return new IotHubLinkAddress(IotHubLinkKind.Cbs, null, null);
        }

        if (count == 2 && Is(segments[0], "messages") && Is(segments[1], "devicebound"))
        {
            return new IotHubLinkAddress(IotHubLinkKind.ServiceCloudToDevice, null, null);
        }

        if (count == 3 && Is(segments[0], "messages") && Is(segments[1], "servicebound") && Is(segments[2], "feedback"))
        {
            return new IotHubLinkAddress(IotHubLinkKind.ServiceFeedback, null, null);
        }

        if (count < 3 || !Is(segments[0], "devices") || segments[1].Length == 0)
        {
            return default;
        }

        string deviceId = Decode(segments[1]);
        string? moduleId = null;
        int rest = 2;
        if (count >= 5 && Is(segments[2], "modules") && segments[3].Length > 0)
        {
            moduleId = Decode(segments[3]);
            rest = 4;
        }

        int tail = count - rest;
        IotHubLinkKind kind = tail switch
        {
            1 when Is(segments[rest], "twin") => IotHubLinkKind.Twin,
            2 when Is(segments[rest], "messages") && Is(segments[rest + 1], "events") => IotHubLinkKind.Telemetry,
            2 when Is(segments[rest], "messages") && Is(segments[rest + 1], "devicebound") => IotHubLinkKind.CloudToDevice,
            2 when Is(segments[rest], "methods") && Is(segments[rest + 1], "devicebound") => IotHubLinkKind.Methods,
            _ => IotHubLinkKind.Unknown,
        };
        return kind == IotHubLinkKind.Unknown ? default : new IotHubLinkAddress(kind, deviceId, moduleId);
    }

    /// <summary>Parses the <c>to</c> of a service's cloud-to-device message: <c>/devices/{id}/messages/deviceBound</c>.</summary>
    public static bool TryParseCloudToDeviceTarget(string? to, out string deviceId, out string? moduleId)
    {
        var address = Parse(to);
        deviceId = address.DeviceId ?? string.Empty;
        moduleId = address.ModuleId;
        return address.Kind == IotHubLinkKind.CloudToDevice;
    }

    private static bool Is(string segment, string literal) => segment.Equals(literal, StringComparison.OrdinalIgnoreCase);

    private static string Decode(string segment)
    {
        try
        {
            return Uri.UnescapeDataString(segment);
        }
        catch (UriFormatException)
        {
            return segment;
        }
    }
}
