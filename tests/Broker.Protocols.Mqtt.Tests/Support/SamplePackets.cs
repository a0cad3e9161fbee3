using System.Text;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.Tests.Support;

/// <summary>Valid encodings of every packet type, written by <see cref="MqttPacketWriter"/>; the fuzz corpus seeds.</summary>
internal static class SamplePackets
{
    public const string IotHubTelemetryTopic = "devices/dev-1/messages/events/%24.ct=application%2Fjson&prop=1";

    private static readonly Lazy<IReadOnlyDictionary<string, byte[]>> s_all = new(Create);

    public static IReadOnlyDictionary<string, byte[]> All => s_all.Value;

    public static TheoryData<string> Names => new(All.Keys);

    /// <summary>The samples small enough to be split at every pair of byte boundaries.</summary>
    public static TheoryData<string> SmallNames => new(All.Where(pair => pair.Value.Length <= 160).Select(pair => pair.Key));

    public static byte[] Payload(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + 7)).ToArray();

    private static Dictionary<string, byte[]> Create()
    {
        var samples = new Dictionary<string, byte[]>
        {
            ["connect-minimal"] = Frames.Write(w => MqttPacketWriter.WriteConnect(w, new MqttConnectContent
            {
                ClientId = "dev-1"u8,
                KeepAliveSeconds = 60,
                CleanSession = true,
            })),
            ["connect-full"] = Frames.Write(w => MqttPacketWriter.WriteConnect(w, new MqttConnectContent
            {
                ClientId = "dev-1/module-a"u8,
                KeepAliveSeconds = 300,
                HasWill = true,
                WillTopic = "devices/dev-1/messages/events/"u8,
                WillMessage = "{\"gone\":true}"u8,
                WillQos = MqttQualityOfService.AtLeastOnce,
                WillRetain = true,
                HasUserName = true,
                UserName = "hub.azure-devices.net/dev-1/?api-version=2021-04-12"u8,
                HasPassword = true,
                Password = "SharedAccessSignature sr=hub.azure-devices.net%2Fdevices%2Fdev-1&sig=abc%3D&se=1700000000"u8,
            })),
            ["connect-mqisdp"] = Frames.Write(w => MqttPacketWriter.WriteConnect(w, new MqttConnectContent
            {
                ProtocolLevel = 3,
                ClientId = "legacy"u8,
                KeepAliveSeconds = 10,
                CleanSession = true,
            })),
            ["connect-empty-client-id"] = Frames.Write(w => MqttPacketWriter.WriteConnect(w, new MqttConnectContent
            {
                CleanSession = true,
                HasUserName = true,
                UserName = ""u8,
                HasPassword = true,
                Password = [0x00, 0xFF],
            })),
            ["connack-session-present"] = Frames.Write(w => MqttPacketWriter.WriteConnAck(w, true, MqttConnectReturnCode.Accepted)),
            ["connack-not-authorized"] = Frames.Write(w => MqttPacketWriter.WriteConnAck(w, false, MqttConnectReturnCode.NotAuthorized)),
            ["publish-qos0-empty"] = Frames.Write(w => MqttPacketWriter.WritePublish(w, "a"u8, 0, MqttQualityOfService.AtMostOnce, false, false, ReadOnlySpan<byte>.Empty)),
            ["publish-qos1-telemetry"] = Frames.Write(w => MqttPacketWriter.WritePublish(w, Encoding.UTF8.GetBytes(IotHubTelemetryTopic), 1, MqttQualityOfService.AtLeastOnce, false, false, Payload(100))),
            ["publish-qos2-dup-retain"] = Frames.Write(w => MqttPacketWriter.WritePublish(w, "$iothub/twin/PATCH/properties/reported/?$rid=7"u8, 65535, MqttQualityOfService.ExactlyOnce, true, true, "{\"t\":21.5}"u8)),
            ["publish-unicode"] = Frames.Write(w => MqttPacketWriter.WritePublish(w, Encoding.UTF8.GetBytes("sensors/température/日本/\U0001F600/\u0001"), 42, MqttQualityOfService.AtLeastOnce, false, false, "x"u8)),
            ["publish-two-byte-length"] = Frames.Write(w => MqttPacketWriter.WritePublish(w, "t/1"u8, 0, MqttQualityOfService.AtMostOnce, true, false, Payload(300))),
            ["publish-three-byte-length"] = Frames.Write(w => MqttPacketWriter.WritePublish(w, "t/big"u8, 9, MqttQualityOfService.AtLeastOnce, false, false, Payload(20_000))),
            ["puback"] = Frames.Write(w => MqttPacketWriter.WritePubAck(w, 1)),
            ["pubrec"] = Frames.Write(w => MqttPacketWriter.WritePubRec(w, 0x1234)),
            ["pubrel"] = Frames.Write(w => MqttPacketWriter.WritePubRel(w, 0xFFFF)),
            ["pubcomp"] = Frames.Write(w => MqttPacketWriter.WritePubComp(w, 0x0100)),
            ["unsuback"] = Frames.Write(w => MqttPacketWriter.WriteUnsubAck(w, 77)),
            ["subscribe-single"] = Frames.Write(w => MqttPacketWriter.WriteSubscribe(w, 10, "devices/dev-1/messages/devicebound/#"u8, MqttQualityOfService.AtLeastOnce)),
            ["subscribe-multi"] = Frames.Write(w => MqttPacketWriter.WriteSubscribe(w, 11,
            [
                new MqttSubscriptionRequest("$iothub/twin/res/#"u8.ToArray(), MqttQualityOfService.AtMostOnce),
                new MqttSubscriptionRequest("+/+/x"u8.ToArray(), MqttQualityOfService.AtLeastOnce),
                new MqttSubscriptionRequest("#"u8.ToArray(), MqttQualityOfService.ExactlyOnce),
                new MqttSubscriptionRequest("//"u8.ToArray(), MqttQualityOfService.AtMostOnce),
            ])),
            ["suback"] = Frames.Write(w => MqttPacketWriter.WriteSubAck(w, 11,
            [
                MqttSubscribeReturnCode.GrantedQos0, MqttSubscribeReturnCode.GrantedQos1,
                MqttSubscribeReturnCode.GrantedQos2, MqttSubscribeReturnCode.Failure,
            ])),
            ["unsubscribe-single"] = Frames.Write(w => MqttPacketWriter.WriteUnsubscribe(w, 12, "$iothub/methods/POST/#"u8)),
            ["unsubscribe-multi"] = Frames.Write(w => MqttPacketWriter.WriteUnsubscribe(w, 13, ["a/+/b"u8.ToArray(), "/"u8.ToArray(), "+"u8.ToArray()])),
            ["pingreq"] = Frames.Write(MqttPacketWriter.WritePingReq),
            ["pingresp"] = Frames.Write(MqttPacketWriter.WritePingResp),
            ["disconnect"] = Frames.Write(MqttPacketWriter.WriteDisconnect),
        };
        return samples;
    }
}
