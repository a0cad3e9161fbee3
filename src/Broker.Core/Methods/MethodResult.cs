namespace Broker.Core.Methods;

/// <summary>A device's answer to a direct method: its own status and JSON payload (null when it sent none).</summary>
/// <param name="Status">The status the device chose (not an HTTP status of the hub).</param>
/// <param name="Payload">The device's JSON payload as UTF-8, or null.</param>
public sealed record MethodResult(int Status, byte[]? Payload);
