using System.Text;
using Amqp;
using Amqp.Types;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;
using Ref = global::Amqp.Framing;

namespace Broker.Protocols.Amqp.Tests.Codec;

/// <summary>Message sections: AMQPNetLite messages walked by ours, ours decoded by AMQPNetLite, ids keeping their type.</summary>
public sealed class AmqpMessageTests
{
    private static readonly Guid s_messageId = Guid.Parse("6f1c2b4e-52a7-4c11-9d0e-3a1b2c3d4e5f");

    [Fact]
    public void MessageReader_ReferenceTelemetryMessage_WalksEverySectionInPlace()
    {
        byte[] body = Encoding.UTF8.GetBytes("{\"temperature\":21.5}");
        var message = new Message
        {
            Header = new Ref.Header { Durable = true, Priority = 5, Ttl = 60_000, FirstAcquirer = true, DeliveryCount = 2 },
            DeliveryAnnotations = new Ref.DeliveryAnnotations { [new Symbol("x-opt-d")] = 1 },
            MessageAnnotations = new Ref.MessageAnnotations { [new Symbol("iothub-interface-id")] = "dtmi:x;1" },
            Properties = new Ref.Properties
            {
                To = "/devices/dev1/messages/events", UserId = [1, 2], Subject = "s", ReplyTo = "r", ContentType = "application/json", ContentEncoding = "utf-8",
                AbsoluteExpiryTime = DateTime.UnixEpoch.AddSeconds(2_000_000_000), CreationTime = DateTime.UnixEpoch.AddSeconds(1_700_000_000),
                GroupId = "g", GroupSequence = 3, ReplyToGroupId = "rg",
            },
            ApplicationProperties = new Ref.ApplicationProperties { ["iothub-creation-time-utc"] = "2024-01-01T00:00:00Z", ["seq"] = 7 },
            BodySection = new Ref.Data { Binary = body },
            Footer = new Ref.Footer { [new Symbol("f")] = "end" },
        };
        message.Properties.SetMessageId(s_messageId);
        message.Properties.SetCorrelationId("corr-1");
        byte[] encoded = Reference.Encode(message);

        var reader = new AmqpMessageReader(encoded);
        var kinds = new List<AmqpSectionKind>();
        while (reader.TryReadSection(out AmqpSection section))
        {
            kinds.Add(section.Kind);
            switch (section.Kind)
            {
                case AmqpSectionKind.Header:
                    AmqpHeader header = AmqpHeader.Decode(section.Encoded);
                    Assert.Equal(((bool?)true, (byte?)5, (uint?)60_000, (bool?)true, (uint?)2), (header.Durable, header.Priority, header.Ttl, header.FirstAcquirer, header.DeliveryCount));
                    break;
                case AmqpSectionKind.MessageAnnotations:
                    Assert.True(AmqpMap.TryGetValue(section.Value, "iothub-interface-id"u8, out ReadOnlySpan<byte> interfaceId));
                    Assert.Equal("dtmi:x;1", Text(AmqpMap.GetText(interfaceId)));
                    break;
                case AmqpSectionKind.Properties:
                    AmqpProperties properties = AmqpProperties.Decode(section.Encoded);
                    var messageId = AmqpMessageId.From(properties.MessageId);
                    Assert.Equal(AmqpMessageIdKind.Uuid, messageId.Kind);
                    Assert.Equal(s_messageId, messageId.GetUuid());
                    Assert.Equal(AmqpMessageIdKind.String, AmqpMessageId.From(properties.CorrelationId).Kind);
                    Assert.Equal("corr-1", AmqpMessageId.From(properties.CorrelationId).ToString());
                    Assert.Equal("/devices/dev1/messages/events", Text(properties.To));
                    Assert.Equal([1, 2], properties.UserId.ToArray());
                    Assert.Equal(("s", "r", "application/json", "utf-8"), (Text(properties.Subject), Text(properties.ReplyTo), Text(properties.ContentType), Text(properties.ContentEncoding)));
                    Assert.Equal(2_000_000_000_000L, properties.AbsoluteExpiryTime);
                    Assert.Equal(1_700_000_000_000L, properties.CreationTime);
                    Assert.Equal(("g", (uint?)3, "rg"), (Text(properties.GroupId), properties.GroupSequence, Text(properties.ReplyToGroupId)));
                    break;
                case AmqpSectionKind.ApplicationProperties:
                    var names = new List<string>();
                    foreach (AmqpMapEntry entry in AmqpMap.Enumerate(section.Value))
                    {
                        names.Add(Text(entry.KeyText));
                    }

                    Assert.Equal(["iothub-creation-time-utc", "seq"], names);
                    Assert.True(AmqpMap.TryGetValue(section.Value, "seq"u8, out ReadOnlySpan<byte> seq));
                    Assert.Equal(7, new AmqpReader(seq).ReadInt());
                    break;
                case AmqpSectionKind.Data:
                    Assert.Equal(body, section.Data.ToArray());
                    Assert.True(Unsafe.AreSameMemory(encoded, section.Data));
                    break;
            }
        }

        Assert.Equal(
            [AmqpSectionKind.Header, AmqpSectionKind.DeliveryAnnotations, AmqpSectionKind.MessageAnnotations, AmqpSectionKind.Properties,
             AmqpSectionKind.ApplicationProperties, AmqpSectionKind.Data, AmqpSectionKind.Footer],
            kinds);

        AmqpMessageLayout layout = AmqpMessageLayout.Parse(encoded);
        Assert.Equal(AmqpSectionKind.Data, layout.BodyKind);
        Assert.Equal(1, layout.BodySectionCount);
        Assert.Equal(body, encoded[layout.FirstData]);
        Assert.Equal("corr-1", AmqpMessageId.From(AmqpProperties.Decode(encoded.AsSpan()[layout.Properties]).CorrelationId).ToString());
        Assert.Equal(encoded.Length, layout.Footer.End.Value);
    }

    [Fact]
    public void MessageWriter_TelemetryShapedMessage_DecodesWithReference()
    {
        byte[] body = new byte[1024];
        Random.Shared.NextBytes(body);
        byte[] encoded = Encoded.With((ref AmqpWriter w) =>
        {
            AmqpMessageWriter.WriteHeader(ref w, new AmqpHeader { Durable = true });
            AmqpMessageWriter.BeginMessageAnnotations(ref w);
            w.WriteSymbol("x-opt-sequence-number"u8);
            w.WriteLong(12);
            AmqpMessageWriter.EndMapSection(ref w);
            byte[] id = Encoded.With((ref AmqpWriter i) => i.WriteULong(99));
            byte[] correlation = Encoded.With((ref AmqpWriter i) => i.WriteBinary([0xAB, 0xCD]));
            AmqpMessageWriter.WriteProperties(ref w, new AmqpProperties { MessageId = id, CorrelationId = correlation, To = "/devices/d/messages/deviceBound"u8, ContentType = "application/json"u8, AbsoluteExpiryTime = 1_000 });
            AmqpMessageWriter.BeginApplicationProperties(ref w);
            w.WriteString("iothub-ack"u8);
            w.WriteString("full"u8);
            w.WriteString("n"u8);
            w.WriteInt(200);
            AmqpMessageWriter.EndMapSection(ref w);
            AmqpMessageWriter.WriteData(ref w, body);
        });

        Message message = Reference.DecodeMessage(encoded);
        Assert.True(message.Header.Durable);
        Assert.Equal(12L, message.MessageAnnotations[new Symbol("x-opt-sequence-number")]);
        Assert.Equal(99ul, message.Properties.GetMessageId());
        Assert.Equal([0xAB, 0xCD], Assert.IsType<byte[]>(message.Properties.GetCorrelationId()));
        Assert.Equal("/devices/d/messages/deviceBound", message.Properties.To);
        Assert.Equal("application/json", (string)message.Properties.ContentType);
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(1), message.Properties.AbsoluteExpiryTime.ToUniversalTime());
        Assert.Equal("full", message.ApplicationProperties["iothub-ack"]);
        Assert.Equal(200, message.ApplicationProperties["n"]);
        Assert.Equal(body, Assert.IsType<Ref.Data>(message.BodySection).Binary);
    }

    public static TheoryData<string> IdKinds => ["ulong", "uuid", "binary", "string"];

    [Theory]
    [MemberData(nameof(IdKinds))]
    public void CorrelationId_EchoedFromReferenceRequest_KeepsItsAmqpType(string kind)
    {
        object id = kind switch
        {
            "ulong" => 123456789ul,
            "uuid" => s_messageId,
            "binary" => new byte[] { 1, 2, 3 },
            _ => "6f1c2b4e-52a7-4c11-9d0e-3a1b2c3d4e5f", // a UUID-looking string stays a string (twin and CBS ids)
        };
        var request = new Message { Properties = new Ref.Properties(), BodySection = new Ref.AmqpValue { Value = "token" } };
        request.Properties.SetMessageId(id);
        byte[] encoded = Reference.Encode(request);
        AmqpMessageLayout layout = AmqpMessageLayout.Parse(encoded);
        Assert.Equal(AmqpSectionKind.AmqpValue, layout.BodyKind);
        AmqpProperties properties = AmqpProperties.Decode(encoded.AsSpan()[layout.Properties]);
        AmqpMessageId messageId = AmqpMessageId.From(properties.MessageId);
        Assert.Equal(kind, messageId.Kind.ToString().ToLowerInvariant());

        // The response echoes the request's message-id as its correlation-id, byte for byte.
        byte[] echoed = properties.MessageId.ToArray();
        byte[] response = Encoded.With((ref AmqpWriter w) =>
        {
            AmqpMessageWriter.WriteProperties(ref w, new AmqpProperties { CorrelationId = echoed });
            AmqpMessageWriter.BeginApplicationProperties(ref w);
            w.WriteString("status-code"u8);
            w.WriteInt(200);
            AmqpMessageWriter.EndMapSection(ref w);
        });
        object? correlation = Reference.DecodeMessage(response).Properties.GetCorrelationId();
        Assert.Equal(id.GetType(), correlation!.GetType());
        Assert.Equal(id is byte[] b ? Convert.ToHexString(b) : id, correlation is byte[] c ? Convert.ToHexString(c) : correlation);
        Assert.Equal(200, Reference.DecodeMessage(response).ApplicationProperties["status-code"]);
    }

    [Fact]
    public void MessageReader_BatchFormat_EachDataSectionIsOneMessage()
    {
        byte[][] inner = Enumerable.Range(0, 3).Select(i =>
        {
            var m = new Message { Properties = new Ref.Properties { MessageId = $"m{i}" }, BodySection = new Ref.Data { Binary = [(byte)i] } };
            return Reference.Encode(m);
        }).ToArray();
        byte[] batch = Encoded.With((ref AmqpWriter w) =>
        {
            foreach (byte[] message in inner)
            {
                AmqpMessageWriter.WriteData(ref w, message);
            }
        });

        var outer = new AmqpMessageReader(batch);
        int index = 0;
        while (outer.TryReadSection(out AmqpSection section))
        {
            Assert.Equal(AmqpSectionKind.Data, section.Kind);
            AmqpMessageLayout layout = AmqpMessageLayout.Parse(section.Data);
            Assert.Equal($"m{index}", AmqpMessageId.From(AmqpProperties.Decode(section.Data[layout.Properties]).MessageId).ToString());
            Assert.Equal([(byte)index], section.Data[layout.FirstData].ToArray());
            index++;
        }

        Assert.Equal(3, index);
        Assert.Equal(3, AmqpMessageLayout.Parse(batch).BodySectionCount);
    }

    [Fact]
    public void MessageReader_SequenceBody_AndNoBody()
    {
        var message = new Message { BodySection = new Ref.AmqpSequence { List = new global::Amqp.Types.List { 1, "a" } } };
        AmqpMessageLayout layout = AmqpMessageLayout.Parse(Reference.Encode(message));
        Assert.Equal(AmqpSectionKind.AmqpSequence, layout.BodyKind);

        byte[] onlyProperties = Encoded.With((ref AmqpWriter w) => AmqpMessageWriter.WriteProperties(ref w, new AmqpProperties { To = "x"u8 }));
        layout = AmqpMessageLayout.Parse(onlyProperties);
        Assert.Null(layout.BodyKind);
        Assert.Equal(0, layout.BodySectionCount);
    }

    [Fact]
    public void MessageReader_SectionsOutOfOrderOrMixedBodies_AreRejected()
    {
        byte[] properties = Encoded.With((ref AmqpWriter w) => AmqpMessageWriter.WriteProperties(ref w, new AmqpProperties { To = "x"u8 }));
        byte[] header = Encoded.With((ref AmqpWriter w) => AmqpMessageWriter.WriteHeader(ref w, new AmqpHeader { Durable = true }));
        byte[] data = Encoded.With((ref AmqpWriter w) => AmqpMessageWriter.WriteData(ref w, [1]));
        byte[] value = Encoded.With((ref AmqpWriter w) =>
        {
            AmqpMessageWriter.BeginAmqpValue(ref w);
            w.WriteInt(1);
        });
        byte[] footer = Encoded.With((ref AmqpWriter w) =>
        {
            AmqpMessageWriter.BeginFooter(ref w);
            AmqpMessageWriter.EndMapSection(ref w);
        });

        AssertRejected([.. properties, .. header]);
        AssertRejected([.. header, .. header]);
        AssertRejected([.. data, .. value]);
        AssertRejected([.. value, .. value]);
        AssertRejected([.. footer, .. data]);
        AssertRejected([.. data, .. properties]);
        AssertRejected(Encoded.Performative(new AmqpClose())); // not a section
        Assert.Equal(2 * data.Length, AmqpMessageLayout.Parse([.. header, .. data, .. data, .. footer]).Body.End.Value - header.Length);
    }

    [Fact]
    public void MessageId_OtherTypes_AreRejected()
    {
        byte[] symbolId = Encoded.With((ref AmqpWriter w) =>
        {
            w.BeginDescribedList(AmqpDescriptor.Properties);
            w.WriteSymbol("sym"u8);
            w.EndList();
        });
        AmqpPerformativeTests.AssertDecodeError(AmqpDecodeError.UnexpectedType, symbolId, b => AmqpProperties.Decode(b));
    }

    private static void AssertRejected(byte[] message)
    {
        var exception = Assert.Throws<AmqpDecodeException>(() => AmqpMessageLayout.Parse(message));
        Assert.True(exception.Error is AmqpDecodeError.InvalidField or AmqpDecodeError.UnexpectedDescriptor, exception.Error.ToString());
    }

    private static string Text(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    private static class Unsafe
    {
        public static bool AreSameMemory(byte[] buffer, ReadOnlySpan<byte> slice)
            => buffer.AsSpan().Overlaps(slice);
    }
}
