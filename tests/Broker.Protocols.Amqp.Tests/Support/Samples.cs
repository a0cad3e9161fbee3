using System.Buffers;
using Broker.Protocols.Amqp.Codec;

namespace Broker.Protocols.Amqp.Tests.Support;

/// <summary>Representative frames and messages: the fuzz corpus and the allocation budget's input.</summary>
internal static class Samples
{
    /// <summary>A device-to-cloud telemetry message as the IoT Hub SDKs send it.</summary>
    public static byte[] TelemetryMessage(int bodySize)
    {
        byte[] body = new byte[bodySize];
        new Random(1).NextBytes(body);
        return Encoded.With((ref AmqpWriter w) =>
        {
            AmqpMessageWriter.BeginMessageAnnotations(ref w);
            w.WriteSymbol("iothub-interface-id"u8);
            w.WriteString("dtmi:com:example:Thermostat;1"u8);
            AmqpMessageWriter.EndMapSection(ref w);
            w.WriteDescriptor(AmqpDescriptor.Properties);
            w.BeginList();
            w.WriteUuid(Guid.Parse("6f1c2b4e-52a7-4c11-9d0e-3a1b2c3d4e5f"));
            w.WriteNull();
            w.WriteString("/devices/device-0001/messages/events"u8);
            w.WriteNull();
            w.WriteNull();
            w.WriteString("corr-0001"u8);
            w.WriteSymbol("application/json"u8);
            w.WriteSymbol("utf-8"u8);
            w.EndList();
            AmqpMessageWriter.BeginApplicationProperties(ref w);
            w.WriteString("iothub-creation-time-utc"u8);
            w.WriteString("2024-01-01T00:00:00.0000000Z"u8);
            w.WriteString("temperatureAlert"u8);
            w.WriteString("false"u8);
            w.WriteString("seq"u8);
            w.WriteInt(12345);
            AmqpMessageWriter.EndMapSection(ref w);
            AmqpMessageWriter.WriteData(ref w, body);
        });
    }

    /// <summary>A transfer frame carrying <see cref="TelemetryMessage"/>.</summary>
    public static byte[] TelemetryTransferFrame(int bodySize)
        => Encoded.Frame(new AmqpTransfer { Handle = 1, DeliveryId = 17, DeliveryTag = [0, 0, 0, 17], MessageFormat = 0 }, channel: 0, payload: TelemetryMessage(bodySize));

    /// <summary>One of every frame the codec knows, for the fuzz corpus.</summary>
    public static IReadOnlyList<byte[]> AllFrames()
    {
        byte[] capabilities = Encoded.With((ref AmqpWriter w) => w.WriteSymbolArray("cap-a", "cap-b"));
        byte[] properties = Encoded.With((ref AmqpWriter w) =>
        {
            w.BeginMap();
            w.WriteSymbol("com.microsoft:api-version"u8);
            w.WriteString("2021-04-12"u8);
            w.WriteSymbol("com.microsoft:timeout"u8);
            w.WriteUInt(60000);
            w.EndMap();
        });
        var error = new AmqpError(AmqpErrorConditions.NotFound, "missing"u8, properties);
        byte[] batch = Encoded.With((ref AmqpWriter w) =>
        {
            AmqpMessageWriter.WriteData(ref w, TelemetryMessage(8));
            AmqpMessageWriter.WriteData(ref w, TelemetryMessage(4));
        });
        return
        [
            Encoded.Frame(new AmqpOpen { ContainerId = "c"u8, Hostname = "hub"u8, MaxFrameSize = 65536, ChannelMax = 10, IdleTimeOut = 120000, OfferedCapabilities = capabilities, Properties = properties }),
            Encoded.Frame(new AmqpBegin { RemoteChannel = 0, NextOutgoingId = 1, IncomingWindow = 5000, OutgoingWindow = 5000, HandleMax = 7, Properties = properties }, channel: 1),
            Encoded.Frame(new AmqpAttach
            {
                Name = "rheaSender_1"u8, Handle = 0, Role = AmqpRole.Sender, SndSettleMode = AmqpSenderSettleMode.Settled, RcvSettleMode = AmqpReceiverSettleMode.First,
                Source = new AmqpSource { IsPresent = true, Address = "src"u8, Filter = properties, Outcomes = capabilities },
                Target = new AmqpTarget { IsPresent = true, Address = "/devices/d/twin"u8, Capabilities = capabilities },
                InitialDeliveryCount = 0, MaxMessageSize = 1 << 18, Properties = properties,
            }),
            Encoded.Frame(new AmqpFlow { NextIncomingId = 1, IncomingWindow = 5000, NextOutgoingId = 1, OutgoingWindow = 5000, Handle = 0, DeliveryCount = 0, LinkCredit = 50, Drain = false }),
            TelemetryTransferFrame(64),
            Encoded.Frame(new AmqpTransfer { Handle = 1, DeliveryId = 3, DeliveryTag = [1], MessageFormat = AmqpMessageFormat.Batch, Settled = false }, payload: batch),
            Encoded.Frame(new AmqpDisposition { Role = AmqpRole.Receiver, First = 1, Last = 5, Settled = true, State = AmqpDeliveryState.Accepted }),
            Encoded.Frame(new AmqpDisposition { Role = AmqpRole.Receiver, First = 1, State = AmqpDeliveryState.Rejected(error) }),
            Encoded.Frame(new AmqpDisposition { Role = AmqpRole.Sender, First = 1, State = new AmqpDeliveryState { Kind = AmqpDeliveryStateKind.Modified, DeliveryFailed = true, MessageAnnotations = properties } }),
            Encoded.Frame(new AmqpDisposition { Role = AmqpRole.Sender, First = 1, State = AmqpDeliveryState.Received(1, 2) }),
            Encoded.Frame(new AmqpDetach { Handle = 0, Closed = true, Error = error }),
            Encoded.Frame(new AmqpEnd { Error = error }),
            Encoded.Frame(new AmqpClose { Error = new AmqpError(AmqpErrorConditions.ConnectionForced) }),
            Encoded.Frame(new AmqpSaslMechanisms { Mechanisms = capabilities }, type: AmqpFrameType.Sasl),
            Encoded.Frame(new AmqpSaslInit { Mechanism = "PLAIN"u8, InitialResponse = [0, 1, 0, 2], Hostname = "hub"u8 }, type: AmqpFrameType.Sasl),
            Encoded.Frame(new AmqpSaslChallenge { Challenge = [1, 2] }, type: AmqpFrameType.Sasl),
            Encoded.Frame(new AmqpSaslResponse { Response = [3] }, type: AmqpFrameType.Sasl),
            Encoded.Frame(new AmqpSaslOutcome { Code = AmqpSaslCode.Auth, AdditionalData = [4] }, type: AmqpFrameType.Sasl),
            [0, 0, 0, 8, 2, 0, 0, 0],
        ];
    }

    /// <summary>Decodes a frame body with the decoder its descriptor names, and walks a transfer's message.</summary>
    public static void DecodeFrame(in AmqpFrame frame)
    {
        if (frame.IsEmpty)
        {
            return;
        }

        using var body = new AmqpContiguousBuffer(frame.Body);
        ReadOnlySpan<byte> span = body.Span;
        switch (AmqpPerformativeBody.PeekDescriptor(span))
        {
            case AmqpDescriptor.Open:
                AmqpOpen.Decode(span);
                break;
            case AmqpDescriptor.Begin:
                AmqpBegin.Decode(span);
                break;
            case AmqpDescriptor.Attach:
                AmqpAttach.Decode(span);
                break;
            case AmqpDescriptor.Flow:
                AmqpFlow.Decode(span);
                break;
            case AmqpDescriptor.Transfer:
                Span<byte> scratch = stackalloc byte[AmqpTransfer.ScratchSize];
                AmqpTransfer transfer = AmqpTransfer.Decode(frame.Body, scratch, out ReadOnlySequence<byte> payload);
                using (var message = new AmqpContiguousBuffer(payload))
                {
                    AmqpMessageLayout layout = AmqpMessageLayout.Parse(message.Span);
                    if (!layout.Properties.Equals(default(Range)))
                    {
                        AmqpProperties properties = AmqpProperties.Decode(message.Span[layout.Properties]);
                        AmqpMessageId.From(properties.CorrelationId);
                    }

                    if (!layout.Header.Equals(default(Range)))
                    {
                        AmqpHeader.Decode(message.Span[layout.Header]);
                    }

                    if (transfer.MessageFormat == AmqpMessageFormat.Batch)
                    {
                        var sections = new AmqpMessageReader(message.Span);
                        while (sections.TryReadSection(out AmqpSection section))
                        {
                            if (section.Kind == AmqpSectionKind.Data)
                            {
                                AmqpMessageLayout.Parse(section.Data);
                            }
                        }
                    }
                    else if (!layout.ApplicationProperties.Equals(default(Range)))
                    {
                        var sections = new AmqpMessageReader(message.Span[layout.ApplicationProperties]);
                        sections.TryReadSection(out AmqpSection applicationProperties);
                        foreach (AmqpMapEntry entry in AmqpMap.Enumerate(applicationProperties.Value))
                        {
                            _ = entry.KeyText;
                        }
                    }
                }

                break;
            case AmqpDescriptor.Disposition:
                AmqpDisposition.Decode(span);
                break;
            case AmqpDescriptor.Detach:
                AmqpDetach.Decode(span);
                break;
            case AmqpDescriptor.End:
                AmqpEnd.Decode(span);
                break;
            case AmqpDescriptor.Close:
                AmqpClose.Decode(span);
                break;
            case AmqpDescriptor.SaslMechanisms:
                foreach (ReadOnlySpan<byte> unused in AmqpSymbols.Enumerate(AmqpSaslMechanisms.Decode(span).Mechanisms))
                {
                }

                break;
            case AmqpDescriptor.SaslInit:
                AmqpSaslInit.Decode(span);
                break;
            case AmqpDescriptor.SaslChallenge:
                AmqpSaslChallenge.Decode(span);
                break;
            case AmqpDescriptor.SaslResponse:
                AmqpSaslResponse.Decode(span);
                break;
            case AmqpDescriptor.SaslOutcome:
                AmqpSaslOutcome.Decode(span);
                break;
            default:
                throw new AmqpDecodeException(AmqpDecodeError.UnexpectedDescriptor);
        }
    }
}
