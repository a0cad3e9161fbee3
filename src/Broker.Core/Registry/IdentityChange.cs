namespace Broker.Core.Registry;

/// <summary>A durable change to an identity that affects its live connections.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="ModuleId">The module, or null for the device (and, on delete, all its modules).</param>
/// <param name="Kind">What happened.</param>
public readonly record struct IdentityChange(string DeviceId, string? ModuleId, IdentityChangeKind Kind);
