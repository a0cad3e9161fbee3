using System.Buffers;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.Tests.Support;

/// <summary>Decodes a frame with the decoder for its type and writes it back with <see cref="MqttPacketWriter"/>.</summary>
internal static class PacketCodec
{
    /// <summary>The decoder's verdict on a frame.</summary>
    public static MqttProtocolError Decode(in MqttFrame frame) => Reencode(frame, null);

    /// <summary>Decodes <paramref name="frame"/> and, when valid, re-encodes it into <paramref name="output"/>.</summary>
    public static MqttProtocolError Reencode(in MqttFrame frame, IBufferWriter<byte>? output)
    {
        MqttProtocolError error;
        switch (frame.Type)
        {
            case MqttPacketType.Connect:
                if (MqttConnectPacket.TryDecode(frame, out MqttConnectPacket connect, out error) && output is not null)
                {
                    MqttPacketWriter.WriteConnect(output, new MqttConnectContent
                    {
                        ProtocolLevel = connect.ProtocolLevel,
                        ClientId = connect.ClientId.ToArray(),
                        KeepAliveSeconds = connect.KeepAliveSeconds,
                        CleanSession = connect.CleanSession,
                        HasWill = connect.HasWill,
                        WillTopic = connect.WillTopic.ToArray(),
                        WillMessage = connect.WillMessage.ToArray(),
                        WillQos = connect.WillQos,
                        WillRetain = connect.WillRetain,
                        HasUserName = connect.HasUserName,
                        UserName = connect.UserName.ToArray(),
                        HasPassword = connect.HasPassword,
                        Password = connect.Password.ToArray(),
                    });
                }

                return error;
            case MqttPacketType.ConnAck:
                if (MqttConnAckPacket.TryDecode(frame, out MqttConnAckPacket connAck, out error) && output is not null)
                {
                    MqttPacketWriter.WriteConnAck(output, connAck.SessionPresent, connAck.ReturnCode);
                }

                return error;
            case MqttPacketType.Publish:
                if (MqttPublishPacket.TryDecode(frame, out MqttPublishPacket publish, out error) && output is not null)
                {
                    MqttPacketWriter.WritePublish(output, publish.Topic.ToArray(), publish.PacketId, publish.Qos, publish.Retain, publish.Dup, publish.Payload);
                }

                return error;
            case MqttPacketType.PubAck:
            case MqttPacketType.PubRec:
            case MqttPacketType.PubRel:
            case MqttPacketType.PubComp:
            case MqttPacketType.UnsubAck:
                if (MqttAckPacket.TryDecode(frame, out MqttAckPacket ack, out error) && output is not null)
                {
                    WriteAck(output, ack);
                }

                return error;
            case MqttPacketType.Subscribe:
                if (MqttSubscribePacket.TryDecode(frame, out MqttSubscribePacket subscribe, out error) && output is not null)
                {
                    var requests = new List<MqttSubscriptionRequest>();
                    foreach (MqttSubscription subscription in subscribe)
                    {
                        requests.Add(new MqttSubscriptionRequest(subscription.Filter.ToArray(), subscription.RequestedQos));
                    }

                    Assert.Equal(subscribe.Count, requests.Count);
                    MqttPacketWriter.WriteSubscribe(output, subscribe.PacketId, requests.ToArray());
                }

                return error;
            case MqttPacketType.SubAck:
                if (MqttSubAckPacket.TryDecode(frame, out MqttSubAckPacket subAck, out error) && output is not null)
                {
                    var codes = new MqttSubscribeReturnCode[subAck.Count];
                    subAck.CopyReturnCodesTo(codes);
                    MqttPacketWriter.WriteSubAck(output, subAck.PacketId, codes);
                }

                return error;
            case MqttPacketType.Unsubscribe:
                if (MqttUnsubscribePacket.TryDecode(frame, out MqttUnsubscribePacket unsubscribe, out error) && output is not null)
                {
                    var filters = new List<ReadOnlyMemory<byte>>();
                    foreach (ReadOnlySequence<byte> filter in unsubscribe)
                    {
                        filters.Add(filter.ToArray());
                    }

                    Assert.Equal(unsubscribe.Count, filters.Count);
                    MqttPacketWriter.WriteUnsubscribe(output, unsubscribe.PacketId, filters.ToArray());
                }

                return error;
            case MqttPacketType.PingReq:
            case MqttPacketType.PingResp:
            case MqttPacketType.Disconnect:
                if (MqttEmptyPacket.TryDecode(frame, out MqttEmptyPacket empty, out error) && output is not null)
                {
                    WriteEmpty(output, empty.Type);
                }

                return error;
            default:
                throw new InvalidOperationException($"The frame reader produced a frame of type {frame.Type}.");
        }
    }

    /// <summary>Calls every decoder; all but the matching one must answer <see cref="MqttProtocolError.UnexpectedPacketType"/>.</summary>
    public static void DecodeWithEveryDecoder(in MqttFrame frame)
    {
        CheckOther(frame, MqttConnectPacket.TryDecode(frame, out _, out MqttProtocolError error), error, MqttPacketType.Connect);
        CheckOther(frame, MqttConnAckPacket.TryDecode(frame, out _, out error), error, MqttPacketType.ConnAck);
        CheckOther(frame, MqttPublishPacket.TryDecode(frame, out _, out error), error, MqttPacketType.Publish);
        CheckOther(frame, MqttAckPacket.TryDecode(frame, out _, out error), error, MqttPacketType.PubAck, MqttPacketType.PubRec, MqttPacketType.PubRel, MqttPacketType.PubComp, MqttPacketType.UnsubAck);
        CheckOther(frame, MqttSubscribePacket.TryDecode(frame, out _, out error), error, MqttPacketType.Subscribe);
        CheckOther(frame, MqttSubAckPacket.TryDecode(frame, out _, out error), error, MqttPacketType.SubAck);
        CheckOther(frame, MqttUnsubscribePacket.TryDecode(frame, out _, out error), error, MqttPacketType.Unsubscribe);
        CheckOther(frame, MqttEmptyPacket.TryDecode(frame, out _, out error), error, MqttPacketType.PingReq, MqttPacketType.PingResp, MqttPacketType.Disconnect);
    }

    private static void CheckOther(in MqttFrame frame, bool decoded, MqttProtocolError error, params ReadOnlySpan<MqttPacketType> types)
    {
        if (!types.Contains(frame.Type))
        {
            Assert.False(decoded);
            Assert.Equal(MqttProtocolError.UnexpectedPacketType, error);
        }
        else
        {
            Assert.Equal(decoded, error == MqttProtocolError.None);
        }
    }

    private static void WriteAck(IBufferWriter<byte> output, in MqttAckPacket ack)
    {
        switch (ack.Type)
        {
            case MqttPacketType.PubAck:
                MqttPacketWriter.WritePubAck(output, ack.PacketId);
                break;
            case MqttPacketType.PubRec:
                MqttPacketWriter.WritePubRec(output, ack.PacketId);
                break;
            case MqttPacketType.PubRel:
                MqttPacketWriter.WritePubRel(output, ack.PacketId);
                break;
            case MqttPacketType.PubComp:
                MqttPacketWriter.WritePubComp(output, ack.PacketId);
                break;
            default:
                MqttPacketWriter.WriteUnsubAck(output, ack.PacketId);
                break;
        }
    }

    private static void WriteEmpty(IBufferWriter<byte> output, MqttPacketType type)
    {
        switch (type)
        {
            case MqttPacketType.PingReq:
                MqttPacketWriter.WritePingReq(output);
                break;
            case MqttPacketType.PingResp:
                MqttPacketWriter.WritePingResp(output);
                break;
            default:
                MqttPacketWriter.WriteDisconnect(output);
                break;
        }
    }
}
