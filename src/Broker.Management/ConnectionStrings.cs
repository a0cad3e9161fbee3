namespace Broker.Management;

/// <summary>IoT Hub connection strings: <c>;</c>-separated <c>Key=Value</c> pairs with case-insensitive keys.</summary>
internal static class ConnectionStrings
{
    /// <summary>What an SDK connects a SAS device with.</summary>
    public static string ForDevice(string hostName, string deviceId, string key)
        => $"HostName={hostName};DeviceId={deviceId};SharedAccessKey={key}";

    /// <summary>What an SDK connects an X.509 device with; the certificate is supplied separately.</summary>
    public static string ForX509Device(string hostName, string deviceId)
        => $"HostName={hostName};DeviceId={deviceId};x509=true";

    /// <summary>What a service SDK (or this CLI) connects with.</summary>
    public static string ForPolicy(string hostName, string keyName, string key)
        => $"HostName={hostName};SharedAccessKeyName={keyName};SharedAccessKey={key}";

    /// <summary>The pairs of <paramref name="connectionString"/>, or null if a part is not <c>Key=Value</c>.</summary>
    public static Dictionary<string, string>? TryParse(string connectionString)
    {
        var pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Split at the first '=' only: base64 keys end in '='.
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return null;
            }

            pairs[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        return pairs;
    }
}
