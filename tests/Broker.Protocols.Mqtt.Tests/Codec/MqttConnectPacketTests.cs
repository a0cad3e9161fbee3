using System.Buffers;
using System.Text;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttConnectPacketTests
{
    // "MQTT" level 4, flags, keep-alive 60, then the payload.
    private const string Mqtt311 = "00 04 4D 51 54 54 04";

    [Fact]
    public void TryDecode_FullConnect_ExposesEveryField()
    {
        MqttFrame frame = Frames.Read(SamplePackets.All["connect-full"]);

        Assert.True(MqttConnectPacket.TryDecode(frame, out MqttConnectPacket packet, out MqttProtocolError error));

        Assert.Equal(MqttProtocolError.None, error);
        Assert.Equal(4, packet.ProtocolLevel);
        Assert.Equal(300, packet.KeepAliveSeconds);
        Assert.False(packet.CleanSession);
        Assert.Equal("dev-1/module-a", packet.GetClientIdString());
        Assert.True(packet.HasWill);
        Assert.Equal("devices/dev-1/messages/events/", packet.GetWillTopicString());
        Assert.Equal("{\"gone\":true}"u8.ToArray(), packet.WillMessage.ToArray());
        Assert.Equal(MqttQualityOfService.AtLeastOnce, packet.WillQos);
        Assert.True(packet.WillRetain);
        Assert.True(packet.HasUserName);
        Assert.Equal("hub.azure-devices.net/dev-1/?api-version=2021-04-12", packet.GetUserNameString());
        Assert.True(packet.HasPassword);
        Assert.StartsWith("SharedAccessSignature sr=", Encoding.UTF8.GetString(packet.Password), StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_MinimalConnect_HasNoOptionalFields()
    {
        MqttFrame frame = Frames.Read(SamplePackets.All["connect-minimal"]);

        Assert.True(MqttConnectPacket.TryDecode(frame, out MqttConnectPacket packet, out _));

        Assert.True(packet.CleanSession);
        Assert.Equal(60, packet.KeepAliveSeconds);
        Assert.Equal("dev-1", packet.GetClientIdString());
        Assert.False(packet.HasWill);
        Assert.False(packet.HasUserName);
        Assert.False(packet.HasPassword);
        Assert.True(packet.WillTopic.IsEmpty);
        Assert.True(packet.UserName.IsEmpty);
        Assert.True(packet.Password.IsEmpty);
    }

    [Fact]
    public void TryDecode_Mqtt31ProtocolName_IsAcceptedAsLevel3()
    {
        MqttFrame frame = Frames.Read(SamplePackets.All["connect-mqisdp"]);

        Assert.True(MqttConnectPacket.TryDecode(frame, out MqttConnectPacket packet, out _));

        Assert.Equal(3, packet.ProtocolLevel);
        Assert.Equal("legacy", packet.GetClientIdString());
    }

    [Fact]
    public void TryDecode_EmptyClientIdWithCleanSession_IsAccepted()
    {
        MqttFrame frame = Frames.Read(SamplePackets.All["connect-empty-client-id"]);

        Assert.True(MqttConnectPacket.TryDecode(frame, out MqttConnectPacket packet, out _));

        Assert.True(packet.ClientId.IsEmpty);
        Assert.True(packet.HasUserName);
        Assert.True(packet.UserName.IsEmpty);
        Assert.Equal([0x00, 0xFF], packet.Password.ToArray());
    }

    [Theory]
    // Protocol name and level: a wrong name closes, a wrong level is answered with CONNACK 0x01.
    [InlineData("00 04 4D 51 54 58 04 02 00 3C 00 01 61", MqttProtocolError.InvalidProtocolName)]
    [InlineData("00 03 4D 51 54 04 02 00 3C 00 01 61", MqttProtocolError.InvalidProtocolName)]
    [InlineData("00 07 4D 51 49 73 64 70 70 03 02 00 3C 00 01 61", MqttProtocolError.InvalidProtocolName)]
    [InlineData("00 04 6D 71 74 74 04 02 00 3C 00 01 61", MqttProtocolError.InvalidProtocolName)]
    [InlineData("00 04 4D 51 54 54 05 02 00 3C 00 01 61", MqttProtocolError.UnsupportedProtocolLevel)]
    [InlineData("00 04 4D 51 54 54 03 02 00 3C 00 01 61", MqttProtocolError.UnsupportedProtocolLevel)]
    [InlineData("00 04 4D 51 54 54 00", MqttProtocolError.UnsupportedProtocolLevel)]
    [InlineData("00 06 4D 51 49 73 64 70 04 02 00 3C 00 01 61", MqttProtocolError.UnsupportedProtocolLevel)]
    [InlineData("00 04 4D 51 54 54 05 02 00 3C 05 11 00 00 00 0A 00 01 61", MqttProtocolError.UnsupportedProtocolLevel)]
    // Flags.
    [InlineData(Mqtt311 + "03 00 3C 00 01 61", MqttProtocolError.ConnectReservedFlagSet)]
    [InlineData(Mqtt311 + "0A 00 3C 00 01 61", MqttProtocolError.InvalidWillFlags)]
    [InlineData(Mqtt311 + "12 00 3C 00 01 61", MqttProtocolError.InvalidWillFlags)]
    [InlineData(Mqtt311 + "22 00 3C 00 01 61", MqttProtocolError.InvalidWillFlags)]
    [InlineData(Mqtt311 + "1E 00 3C 00 01 61 00 01 74 00 00", MqttProtocolError.InvalidWillFlags)]
    [InlineData(Mqtt311 + "42 00 3C 00 01 61 00 01 70", MqttProtocolError.PasswordWithoutUserName)]
    // Client identifier.
    [InlineData(Mqtt311 + "00 00 3C 00 00", MqttProtocolError.ClientIdentifierRejected)]
    [InlineData("00 06 4D 51 49 73 64 70 03 02 00 3C 00 00", MqttProtocolError.ClientIdentifierRejected)]
    [InlineData(Mqtt311 + "02 00 3C 00 02 C3 28", MqttProtocolError.InvalidUtf8String)]
    [InlineData(Mqtt311 + "02 00 3C 00 02 61 00", MqttProtocolError.InvalidUtf8String)]
    [InlineData(Mqtt311 + "02 00 3C 00 03 ED A0 80", MqttProtocolError.InvalidUtf8String)]
    [InlineData(Mqtt311 + "02 00 3C 00 02 C0 80", MqttProtocolError.InvalidUtf8String)]
    [InlineData(Mqtt311 + "02 00 3C 00 04 F4 90 80 80", MqttProtocolError.InvalidUtf8String)]
    [InlineData(Mqtt311 + "00 00 3C 00 01 FF", MqttProtocolError.InvalidUtf8String)]
    // Will topic and message.
    [InlineData(Mqtt311 + "06 00 3C 00 01 61 00 03 61 2F 23 00 00", MqttProtocolError.WildcardInTopicName)]
    [InlineData(Mqtt311 + "06 00 3C 00 01 61 00 01 2B 00 00", MqttProtocolError.WildcardInTopicName)]
    [InlineData(Mqtt311 + "06 00 3C 00 01 61 00 00 00 00", MqttProtocolError.EmptyTopic)]
    [InlineData(Mqtt311 + "06 00 3C 00 01 61 00 01 80 00 00", MqttProtocolError.InvalidUtf8String)]
    [InlineData(Mqtt311 + "06 00 3C 00 01 61 00 01 74", MqttProtocolError.TruncatedPacket)]
    [InlineData(Mqtt311 + "06 00 3C 00 01 61 00 01 74 00 02 00", MqttProtocolError.TruncatedPacket)]
    // User name and password.
    [InlineData(Mqtt311 + "82 00 3C 00 01 61 00 01 FE", MqttProtocolError.InvalidUtf8String)]
    [InlineData(Mqtt311 + "82 00 3C 00 01 61 00 01 00", MqttProtocolError.InvalidUtf8String)]
    [InlineData(Mqtt311 + "82 00 3C 00 01 61", MqttProtocolError.TruncatedPacket)]
    [InlineData(Mqtt311 + "C2 00 3C 00 01 61 00 01 75", MqttProtocolError.TruncatedPacket)]
    [InlineData(Mqtt311 + "C2 00 3C 00 01 61 00 01 75 00 03 FF", MqttProtocolError.TruncatedPacket)]
    // Structure.
    [InlineData("", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 04 4D 51", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 04 4D 51 54 54", MqttProtocolError.TruncatedPacket)]
    [InlineData(Mqtt311, MqttProtocolError.TruncatedPacket)]
    [InlineData(Mqtt311 + "02 00", MqttProtocolError.TruncatedPacket)]
    [InlineData(Mqtt311 + "02 00 3C", MqttProtocolError.TruncatedPacket)]
    [InlineData(Mqtt311 + "02 00 3C 00 05 61", MqttProtocolError.TruncatedPacket)]
    [InlineData(Mqtt311 + "02 00 3C 00 01 61 00", MqttProtocolError.TrailingBytes)]
    [InlineData(Mqtt311 + "C2 00 3C 00 01 61 00 01 75 00 01 70 FF", MqttProtocolError.TrailingBytes)]
    public void TryDecode_MalformedConnect_ReportsError(string bodyHex, MqttProtocolError expected)
    {
        MqttFrame frame = Frames.Read(Frames.Build(0x10, bodyHex));

        Assert.False(MqttConnectPacket.TryDecode(frame, out _, out MqttProtocolError error));

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData(Mqtt311 + "02 00 3C 00 01 01")]
    [InlineData(Mqtt311 + "02 00 3C 00 02 C2 9F")]
    [InlineData(Mqtt311 + "02 00 3C 00 01 7F")]
    [InlineData(Mqtt311 + "02 00 3C 00 04 F0 9F 98 80")]
    [InlineData(Mqtt311 + "02 00 3C 00 03 EF BB BF")]
    [InlineData(Mqtt311 + "02 00 3C 00 03 EF BF BF")]
    [InlineData(Mqtt311 + "C2 00 3C 00 01 61 00 00 00 00")]
    [InlineData(Mqtt311 + "C2 00 3C 00 01 61 00 01 75 00 02 00 FF")]
    [InlineData(Mqtt311 + "36 00 00 00 01 61 00 01 74 00 00")]
    [InlineData(Mqtt311 + "16 00 00 00 01 61 00 01 74 00 02 00 FF")]
    public void TryDecode_ShouldNotCharactersAndBinaryFields_AreAccepted(string bodyHex)
    {
        MqttFrame frame = Frames.Read(Frames.Build(0x10, bodyHex));

        Assert.True(MqttConnectPacket.TryDecode(frame, out _, out MqttProtocolError error));
        Assert.Equal(MqttProtocolError.None, error);
    }

    [Theory]
    [InlineData(MqttProtocolError.UnsupportedProtocolLevel, true, MqttConnectReturnCode.UnacceptableProtocolVersion)]
    [InlineData(MqttProtocolError.ClientIdentifierRejected, true, MqttConnectReturnCode.IdentifierRejected)]
    [InlineData(MqttProtocolError.InvalidProtocolName, false, MqttConnectReturnCode.Accepted)]
    [InlineData(MqttProtocolError.ConnectReservedFlagSet, false, MqttConnectReturnCode.Accepted)]
    [InlineData(MqttProtocolError.InvalidUtf8String, false, MqttConnectReturnCode.Accepted)]
    public void TryGetConnectReturnCode_Error_MapsToConnAckOrPlainClose(MqttProtocolError error, bool answered, MqttConnectReturnCode code)
    {
        Assert.Equal(answered, error.TryGetConnectReturnCode(out MqttConnectReturnCode returnCode));
        Assert.Equal(code, returnCode);
    }

    [Fact]
    public void TryDecode_ClientIdSplitAcrossSegments_IsValidatedAcrossTheSplit()
    {
        // A 4-byte UTF-8 character cut in the middle by a segment boundary.
        byte[] bytes = Frames.Build(0x10, Mqtt311 + "02 00 3C 00 06 61 F0 9F 98 80 62");

        for (int cut = 1; cut < bytes.Length; cut++)
        {
            MqttFrame frame = Frames.Read(Sequences.Split(bytes, cut));
            Assert.True(MqttConnectPacket.TryDecode(frame, out MqttConnectPacket packet, out _));
            Assert.Equal("a\U0001F600b", packet.GetClientIdString());
        }
    }

    [Fact]
    public void WriteConnect_ThenTryDecode_RoundTripsWillQos2()
    {
        byte[] bytes = Frames.Write(w => MqttPacketWriter.WriteConnect(w, new MqttConnectContent
        {
            ClientId = "c"u8,
            CleanSession = true,
            HasWill = true,
            WillTopic = "w"u8,
            WillMessage = ReadOnlySpan<byte>.Empty,
            WillQos = MqttQualityOfService.ExactlyOnce,
            KeepAliveSeconds = ushort.MaxValue,
        }));

        Assert.True(MqttConnectPacket.TryDecode(Frames.Read(bytes), out MqttConnectPacket packet, out _));

        Assert.Equal(MqttQualityOfService.ExactlyOnce, packet.WillQos);
        Assert.False(packet.WillRetain);
        Assert.True(packet.WillMessage.IsEmpty);
        Assert.Equal(ushort.MaxValue, packet.KeepAliveSeconds);
    }
}
