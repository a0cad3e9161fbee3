using System.Security.Cryptography.X509Certificates;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>What a CONNECT asked for, decoded for the dialect layer (connect is not a hot path).</summary>
public sealed record MqttConnectRequest(
    string ClientId,
    string? UserName,
    string? Password,
    ushort KeepAliveSeconds,
    bool CleanSession,
    X509Certificate2? ClientCertificate,
    bool IsTls,
    MqttWill? Will = null);
