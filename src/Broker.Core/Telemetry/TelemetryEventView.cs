using Broker.Core.Security;

namespace Broker.Core.Telemetry;

/// <summary>The parts of a stored telemetry event, as spans over its body.</summary>
public readonly ref struct TelemetryEventView
{
    /// <summary>Creates the view.</summary>
    public TelemetryEventView(ReadOnlySpan<byte> deviceId, ReadOnlySpan<byte> moduleId, ReadOnlySpan<byte> generationId, AuthMethod authMethod,
        ReadOnlySpan<byte> propertyBag, ReadOnlySpan<byte> payload)
    {
        DeviceId = deviceId;
        ModuleId = moduleId;
        GenerationId = generationId;
        AuthMethod = authMethod;
        PropertyBag = propertyBag;
        Payload = payload;
    }

    /// <summary>The sending device's id (UTF-8).</summary>
    public ReadOnlySpan<byte> DeviceId { get; }

    /// <summary>The sending module's id (UTF-8), empty for devices.</summary>
    public ReadOnlySpan<byte> ModuleId { get; }

    /// <summary>The identity's generation id (UTF-8).</summary>
    public ReadOnlySpan<byte> GenerationId { get; }

    /// <summary>How the sender authenticated.</summary>
    public AuthMethod AuthMethod { get; }

    /// <summary>The URL-encoded property bag as the device sent it (system keys start with <c>$.</c>).</summary>
    public ReadOnlySpan<byte> PropertyBag { get; }

    /// <summary>The message body.</summary>
    public ReadOnlySpan<byte> Payload { get; }
}
