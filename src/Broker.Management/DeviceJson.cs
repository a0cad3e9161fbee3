using System.Text.Json;
using Broker.Core.Registry;

namespace Broker.Management;

/// <summary>Devices as IoT Hub registry JSON, the form they take in the management messages.</summary>
internal static class DeviceJson
{
    public static string Write(Device device) => JsonSerializer.Serialize(device, RegistryJsonContext.Default.Device);

    /// <summary>Parses a device; malformed JSON is the caller's error (400004), not ours.</summary>
    public static Device Parse(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw ManagementErrors.InvalidDeviceJson("it is empty.");
        }

        try
        {
            return JsonSerializer.Deserialize(json, RegistryJsonContext.Default.Device)
                ?? throw ManagementErrors.InvalidDeviceJson("it is null.");
        }
        catch (JsonException e)
        {
            throw ManagementErrors.InvalidDeviceJson(e.Message);
        }
    }
}
