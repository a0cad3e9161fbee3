using System.Globalization;
using System.Text;
using Broker.Core.CloudToDevice;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// The topics the hub publishes to devices. Cloud-to-device property bags are percent-encoded so that nothing
/// after <c>devicebound/</c> contains a raw <c>/</c> (the SDKs read the bag as path segment 4), <c>$</c> becomes
/// <c>%24</c> and a space <c>%20</c>, never <c>+</c>.
/// </summary>
internal static class IotHubOutboundTopics
{
    public static string CloudToDevice(StoredCloudToDeviceMessage message)
    {
        var topic = new StringBuilder(96);
        topic.Append("devices/").Append(message.DeviceId).Append("/messages/devicebound/");
        bool first = true;
        Append(topic, ref first, "$.mid", message.MessageId);
        Append(topic, ref first, "$.to", $"/devices/{message.DeviceId}/messages/deviceBound");
        Append(topic, ref first, "$.cid", message.CorrelationId);
        Append(topic, ref first, "$.uid", message.UserId);
        Append(topic, ref first, "$.exp", message.ExpiryTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        Append(topic, ref first, "$.ct", message.ContentType);
        Append(topic, ref first, "$.ce", message.ContentEncoding);
        foreach (var (name, value) in message.Properties)
        {
            if (first)
            {
                first = false;
            }
            else
            {
                topic.Append('&');
            }

            topic.Append(Uri.EscapeDataString(name));
            if (value is not null)
            {
                topic.Append('=').Append(Uri.EscapeDataString(value));
            }
        }

        return topic.ToString();
    }

    public static string MethodRequest(string methodName, string requestId) => $"$iothub/methods/POST/{methodName}/?$rid={requestId}";

    public static string TwinResponse(int status, string requestId) => string.Create(CultureInfo.InvariantCulture, $"$iothub/twin/res/{status}/?$rid={requestId}");

    public static string TwinReportedResponse(string requestId, long version)
        => string.Create(CultureInfo.InvariantCulture, $"$iothub/twin/res/204/?$rid={requestId}&$version={version}");

    public static string DesiredPatch(long version) => string.Create(CultureInfo.InvariantCulture, $"$iothub/twin/PATCH/properties/desired/?$version={version}");

    private static void Append(StringBuilder topic, ref bool first, string key, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (!first)
        {
            topic.Append('&');
        }

        first = false;
        topic.Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
    }
}
