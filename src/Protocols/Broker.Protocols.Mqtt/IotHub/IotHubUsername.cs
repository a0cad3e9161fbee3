namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// The MQTT user name IoT Hub expects: <c>{host}/{deviceId}[/{moduleId}]/?api-version=…[&amp;…]</c>, or the C SDK's older
/// <c>{host}/{deviceId}/api-version=…</c>. An <c>api-version</c> key is required (its value is not checked); other
/// query keys are ignored, as edgeHub does.
/// </summary>
public sealed record IotHubUsername(string HostName, string DeviceId, string? ModuleId)
{
    /// <summary>Parses a user name; null when it does not have IoT Hub's shape.</summary>
    public static IotHubUsername? TryParse(string? userName)
    {
        if (string.IsNullOrEmpty(userName))
        {
            return null;
        }

        string path;
        string query;
        int question = userName.IndexOf("/?", StringComparison.Ordinal);
        if (question >= 0)
        {
            path = userName[..question];
            query = userName[(question + 2)..];
        }
        else
        {
            int legacy = userName.IndexOf("/api-version=", StringComparison.Ordinal);
            if (legacy < 0)
            {
                return null;
            }

            path = userName[..legacy];
            query = userName[(legacy + 1)..];
        }

        if (!HasApiVersion(query))
        {
            return null;
        }

        var segments = path.Split('/');
        return segments.Length switch
        {
            2 when segments[0].Length > 0 && segments[1].Length > 0 => new IotHubUsername(segments[0], segments[1], null),
            3 when segments[0].Length > 0 && segments[1].Length > 0 && segments[2].Length > 0 => new IotHubUsername(segments[0], segments[1], segments[2]),
            _ => null,
        };
    }

    private static bool HasApiVersion(string query)
    {
        foreach (var pair in query.Split('&'))
        {
            if (pair.StartsWith("api-version=", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
