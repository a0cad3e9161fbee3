using System.Globalization;
using System.Text.Json;
using Broker.Core.Registry;

namespace Broker.Management.Cli;

/// <summary>How devices look in table output; JSON output prints the registry JSON itself.</summary>
internal static class DeviceFormat
{
    public static Device Parse(string json)
        => JsonSerializer.Deserialize(json, RegistryJsonContext.Default.Device) ?? throw new CliException("the broker returned an empty device.");

    public static void WriteList(TextWriter writer, IEnumerable<Device> devices)
    {
        var table = new TextTable("DEVICE ID", "STATUS", "AUTH", "EDGE", "CONNECTION", "ETAG");
        foreach (var device in devices)
        {
            table.AddRow(
                device.DeviceId,
                Status(device.Status),
                AuthType(device.Authentication?.Type),
                device.Capabilities?.IotEdge == true ? "yes" : "no",
                device.ConnectionState.ToString(),
                device.ETag ?? "");
        }

        table.WriteTo(writer);
    }

    public static void WriteOne(TextWriter writer, Device device)
    {
        var table = new TextTable();
        table.AddRow("deviceId", device.DeviceId);
        table.AddRow("generationId", device.GenerationId ?? "");
        table.AddRow("etag", device.ETag ?? "");
        table.AddRow("status", Status(device.Status));
        table.AddRow("statusReason", device.StatusReason ?? "");
        table.AddRow("statusUpdatedTime", Time(device.StatusUpdatedTime));
        table.AddRow("connectionState", device.ConnectionState.ToString());
        table.AddRow("lastActivityTime", Time(device.LastActivityTime));
        table.AddRow("cloudToDeviceMessageCount", device.CloudToDeviceMessageCount.ToString(CultureInfo.InvariantCulture));
        table.AddRow("authentication", AuthType(device.Authentication?.Type));
        table.AddRow("primaryKey", device.Authentication?.SymmetricKey?.PrimaryKey ?? "");
        table.AddRow("secondaryKey", device.Authentication?.SymmetricKey?.SecondaryKey ?? "");
        table.AddRow("primaryThumbprint", device.Authentication?.X509Thumbprint?.PrimaryThumbprint ?? "");
        table.AddRow("secondaryThumbprint", device.Authentication?.X509Thumbprint?.SecondaryThumbprint ?? "");
        table.AddRow("iotEdge", device.Capabilities?.IotEdge == true ? "true" : "false");
        table.AddRow("deviceScope", device.DeviceScope ?? "");
        table.WriteTo(writer);
    }

    /// <summary>The JSON spelling, which is what users type in <c>--status</c>.</summary>
    public static string Status(DeviceStatus status) => status == DeviceStatus.Disabled ? "disabled" : "enabled";

    private static string AuthType(AuthenticationType? type) => type switch
    {
        AuthenticationType.Sas => "sas",
        AuthenticationType.SelfSigned => "selfSigned",
        AuthenticationType.CertificateAuthority => "certificateAuthority",
        AuthenticationType.None => "none",
        _ => "",
    };

    private static string Time(DateTimeOffset time)
        => time == DateTimeOffset.MinValue ? "" : time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
