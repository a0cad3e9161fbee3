namespace Broker.Core.Methods;

/// <summary>A direct-method invocation as the back end asks for it (<c>POST /twins/{id}/methods</c>).</summary>
public sealed record MethodRequest
{
    /// <summary>The device.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The module, for module methods.</summary>
    public string? ModuleId { get; init; }

    /// <summary>The method name.</summary>
    public required string MethodName { get; init; }

    /// <summary>The JSON payload as UTF-8; empty means null.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>How long to wait for the device's answer (5–300 s, default 30).</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for the device to connect and subscribe (0–300 s, default 0: it must already be).</summary>
    public TimeSpan ConnectTimeout { get; init; }
}
