using System.Text.Json;

namespace Broker.Plugins.Management;

/// <summary>A direct method call on a device or module.</summary>
public sealed record MethodInvocation
{
    /// <summary>The device id.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The module id, or null to call the device.</summary>
    public string? ModuleId { get; init; }

    /// <summary>The method name.</summary>
    public required string MethodName { get; init; }

    /// <summary>The payload, any JSON value; null sends JSON <c>null</c>.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>How long to wait for the device's answer (IoT Hub: 5 to 300 seconds).</summary>
    public TimeSpan ResponseTimeout { get; init; }

    /// <summary>How long to wait for a disconnected device to connect first (IoT Hub: 0 to 300 seconds).</summary>
    public TimeSpan ConnectTimeout { get; init; }
}
