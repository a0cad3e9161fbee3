using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;

namespace Broker.Host.Tests.Support;

/// <summary>MQTTnet client options of a device connecting the way the Azure IoT SDKs do.</summary>
public static class DeviceMqtt
{
    /// <summary>
    /// Options for <paramref name="deviceId"/> with a SAS <paramref name="password"/>: MQTT 3.1.1, client id = device
    /// id, IoT Hub's user name; over TLS (trusting only the broker's CA, server name = the hub's host name) when
    /// <paramref name="tls"/>, else plain TCP.
    /// </summary>
    public static MqttClientOptions Options(TestBroker broker, string deviceId, string? password, bool tls, X509Certificate2? clientCertificate = null)
    {
        ArgumentNullException.ThrowIfNull(broker);
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", tls ? broker.MqttsPort : broker.MqttPort)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId(deviceId)
            .WithCredentials(broker.MqttUserName(deviceId), password)
            .WithTimeout(TimeSpan.FromSeconds(30));
        if (tls)
        {
            var authority = broker.LoadCertificateAuthority();
            builder.WithTlsOptions(options =>
            {
                options.UseTls()
                    .WithTargetHost(broker.HostName)
                    .WithCertificateValidationHandler(args => TlsHandshake.IsTrusted(args.Certificate, args.SslPolicyErrors, authority));
                if (clientCertificate is not null)
                {
                    options.WithClientCertificates([clientCertificate]);
                }
            });
        }

        return builder.Build();
    }
}
