using System.Text.Json;

namespace Broker.Plugins.Management;

/// <summary>A device's answer to a direct method.</summary>
public readonly record struct MethodInvocationResult
{
    /// <summary>The status the device returned.</summary>
    public int Status { get; init; }

    /// <summary>The payload the device returned, if any.</summary>
    public JsonElement? Payload { get; init; }
}
