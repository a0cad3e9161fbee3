using Microsoft.Extensions.Logging;

namespace Broker.Host.Hosting;

/// <summary>The host's log messages (source-generated).</summary>
internal static partial class HostLog
{
    [LoggerMessage(1000, LogLevel.Information, "Hub store open in {DataDirectory} ({Partitions} partitions), hub host name {HostName}.")]
    public static partial void StoreOpened(ILogger logger, string dataDirectory, int partitions, string hostName);

    [LoggerMessage(1001, LogLevel.Information, "{Listener} listening on {Address}.")]
    public static partial void Listening(ILogger logger, BrokerListener listener, string address);

    [LoggerMessage(1020, LogLevel.Warning, "{Listener} listener (port {Port}) not opened: this process may not bind a port below 1024 (run it with CAP_NET_BIND_SERVICE, or set Listeners:{Listener}Port, e.g. 8443).")]
    public static partial void ListenerNotPermitted(ILogger logger, BrokerListener listener, int port);

    [LoggerMessage(1003, LogLevel.Information, "{Listener} listener turned off (port 0).")]
    public static partial void ListenerOff(ILogger logger, BrokerListener listener);

    [LoggerMessage(1004, LogLevel.Information, "Stopping: closing the listeners and connections.")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(1005, LogLevel.Information, "Closing the hub store (pending acknowledgements are finished first).")]
    public static partial void ClosingStore(ILogger logger);

    [LoggerMessage(1008, LogLevel.Information, "Stopped.")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(1006, LogLevel.Critical, "The broker could not start.")]
    public static partial void StartFailed(ILogger logger, Exception exception);

    [LoggerMessage(1007, LogLevel.Information, "Management credentials (iothubowner connection string) in {Path}.")]
    public static partial void LocalCredentialsWritten(ILogger logger, string path);

    [LoggerMessage(1010, LogLevel.Information, "Created the broker's certificate authority {Subject} in {Path}.")]
    public static partial void AuthorityCreated(ILogger logger, string path, string subject);

    [LoggerMessage(1011, LogLevel.Warning, "The broker's certificate authority {Path} expires on {NotAfter:u}; a new one is created, and clients must trust it instead.")]
    public static partial void AuthorityExpiring(ILogger logger, string path, DateTime notAfter);

    [LoggerMessage(1012, LogLevel.Information, "Issued the server certificate {Path} for {Names}, valid until {NotAfter:u} (thumbprint {Thumbprint}).")]
    public static partial void ServerCertificateIssued(ILogger logger, string path, string names, DateTime notAfter, string thumbprint);

    [LoggerMessage(1013, LogLevel.Information, "TLS clients trust the broker's certificate authority through its file, e.g. mosquitto_pub --cafile {Path}")]
    public static partial void TrustAuthority(ILogger logger, string path);

    [LoggerMessage(1014, LogLevel.Information, "TLS certificate {Path}: {Subject} (thumbprint {Thumbprint}).")]
    public static partial void CertificateLoaded(ILogger logger, string path, string subject, string thumbprint);

    [LoggerMessage(1015, LogLevel.Warning, "The TLS certificate {Path} does not name the hub host {HostName}; clients that check the name will refuse it.")]
    public static partial void CertificateNameMismatch(ILogger logger, string path, string hostName);

    [LoggerMessage(1016, LogLevel.Warning, "The TLS certificate {Path} expired on {NotAfter:u}; clients will refuse it.")]
    public static partial void CertificateExpired(ILogger logger, string path, DateTime notAfter);

    [LoggerMessage(1017, LogLevel.Information, "Device {DeviceId} admitted by plug-in provider {Provider} ({Method}).")]
    public static partial void PluginAdmitted(ILogger logger, string deviceId, string provider, string method);

    [LoggerMessage(1018, LogLevel.Information, "Device {DeviceId} declined by plug-in provider {Provider}: {Reason}")]
    public static partial void PluginDeclined(ILogger logger, string deviceId, string provider, string reason);

    [LoggerMessage(1019, LogLevel.Information, "Plug-in {Name} {Version} loaded from {Directory} ({EntryType}).")]
    public static partial void PluginLoaded(ILogger logger, string name, string version, string directory, string entryType);

    [LoggerMessage(1021, LogLevel.Information, "Routing endpoint {Endpoint} is no longer named by any route: its reader in partition {Partition} is removed (it no longer holds back retention).")]
    public static partial void RoutingReaderForgotten(ILogger logger, string endpoint, int partition);
}
