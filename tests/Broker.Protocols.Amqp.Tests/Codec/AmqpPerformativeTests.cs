using System.Text;
using Amqp.Types;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;
using Ref = global::Amqp.Framing;
using RefSasl = global::Amqp.Sasl;

namespace Broker.Protocols.Amqp.Tests.Codec;

/// <summary>Every performative and SASL frame body: AMQPNetLite → ours, ours → AMQPNetLite, and ours → ours.</summary>
public sealed class AmqpPerformativeTests
{
    private static readonly byte[] s_properties = Reference.Encode(new Fields { [new Symbol("com.microsoft:api-version")] = "2021-04-12", [new Symbol("n")] = 5 });
    private static readonly byte[] s_capabilities = Reference.Encode(new Symbol[] { "cap-a", "cap-b" });

    [Fact]
    public void Open_FromReference_DecodesEveryField()
    {
        var theirs = new Ref.Open
        {
            ContainerId = "container", HostName = "hub.example", MaxFrameSize = 65536, ChannelMax = 255, IdleTimeOut = 120_000,
            OfferedCapabilities = ["cap-a", "cap-b"], DesiredCapabilities = ["want"], OutgoingLocales = ["en-US"], IncomingLocales = ["de-DE"],
            Properties = new Fields { [new Symbol("product")] = "x" },
        };
        AmqpOpen open = AmqpOpen.Decode(Reference.Encode(theirs));
        Assert.Equal("container", Text(open.ContainerId));
        Assert.Equal("hub.example", Text(open.Hostname));
        Assert.Equal(65536u, open.MaxFrameSize);
        Assert.Equal((ushort)255, open.ChannelMax);
        Assert.Equal(120_000u, open.IdleTimeOut);
        Assert.True(AmqpSymbols.Contains(open.OfferedCapabilities, "cap-b"u8));
        Assert.True(AmqpSymbols.Contains(open.DesiredCapabilities, "want"u8));
        Assert.True(AmqpSymbols.Contains(open.OutgoingLocales, "en-US"u8));
        Assert.True(AmqpSymbols.Contains(open.IncomingLocales, "de-DE"u8));
        Assert.True(AmqpMap.TryGetValue(open.Properties, "product"u8, out ReadOnlySpan<byte> product));
        Assert.Equal("x", Text(AmqpMap.GetText(product)));
    }

    [Fact]
    public void Open_ToReference_EncodesEveryFieldAndOnlyMandatoryOnesWhenMinimal()
    {
        var open = new AmqpOpen
        {
            ContainerId = "broker"u8, Hostname = "hub"u8, MaxFrameSize = 1 << 20, ChannelMax = 7, IdleTimeOut = 240_000,
            OfferedCapabilities = s_capabilities, Properties = s_properties,
        };
        var theirs = Reference.Decode<Ref.Open>(Encoded.Performative(open));
        Assert.Equal("broker", theirs.ContainerId);
        Assert.Equal("hub", theirs.HostName);
        Assert.Equal(1u << 20, theirs.MaxFrameSize);
        Assert.Equal((ushort)7, theirs.ChannelMax);
        Assert.Equal(240_000u, theirs.IdleTimeOut);
        Assert.Equal(["cap-a", "cap-b"], theirs.OfferedCapabilities.Select(s => (string)s));
        Assert.Equal("2021-04-12", theirs.Properties[new Symbol("com.microsoft:api-version")]);

        // Trailing absent fields are not sent: descriptor, list8, one element.
        byte[] minimal = Encoded.Performative(new AmqpOpen { ContainerId = "c"u8 });
        Assert.Equal(Hex.Parse("00 53 10 C0 04 01 A1 01 63"), minimal);
        Assert.Equal(uint.MaxValue, Reference.Decode<Ref.Open>(minimal).MaxFrameSize);
    }

    [Fact]
    public void Open_SymbolicDescriptor_IsAccepted()
    {
        byte[] body = Encoded.With((ref AmqpWriter w) =>
        {
            w.WriteDescriptor("amqp:open:list"u8);
            w.BeginList();
            w.WriteString("c"u8);
            w.EndList();
        });
        Assert.Equal(AmqpDescriptor.Open, AmqpPerformativeBody.PeekDescriptor(body));
        Assert.Equal("c", Text(AmqpOpen.Decode(body).ContainerId));
    }

    [Fact]
    public void Begin_BothDirections()
    {
        AmqpBegin begin = AmqpBegin.Decode(Reference.Encode(new Ref.Begin { RemoteChannel = 3, NextOutgoingId = 1, IncomingWindow = 2048, OutgoingWindow = 4096, HandleMax = 31 }));
        Assert.Equal(((ushort?)3, 1u, 2048u, 4096u, (uint?)31), (begin.RemoteChannel, begin.NextOutgoingId, begin.IncomingWindow, begin.OutgoingWindow, begin.HandleMax));

        var theirs = Reference.Decode<Ref.Begin>(Encoded.Performative(new AmqpBegin { RemoteChannel = 0, NextOutgoingId = 9, IncomingWindow = 100, OutgoingWindow = uint.MaxValue, Properties = s_properties }));
        Assert.Equal(((ushort)0, 9u, 100u, uint.MaxValue, uint.MaxValue), (theirs.RemoteChannel, theirs.NextOutgoingId, theirs.IncomingWindow, theirs.OutgoingWindow, theirs.HandleMax));
        Assert.Equal(5, theirs.Properties[new Symbol("n")]);
    }

    [Fact]
    public void Attach_FromReference_DecodesSourceTargetSettleModesAndProperties()
    {
        var theirs = new Ref.Attach
        {
            LinkName = "rheaSender_1", Handle = 4, Role = true, SndSettleMode = Ref.SenderSettleMode.Settled, RcvSettleMode = Ref.ReceiverSettleMode.Second,
            Source = new Ref.Source { Address = "/devices/dev1/messages/deviceBound", Durable = 1, ExpiryPolicy = "link-detach", Timeout = 30, FilterSet = new Map { [new Symbol("f")] = new DescribedValue(new Symbol("x-filter"), "a = 1") }, Outcomes = ["amqp:accepted:list"], DefaultOutcome = new Ref.Released() },
            Target = new Ref.Target { Address = "/devices/dev1/messages/events", Capabilities = ["cap"] },
            InitialDeliveryCount = 7, MaxMessageSize = 262_144,
            Properties = new Fields { [new Symbol("com.microsoft:channel-correlation-id")] = "twin:abc" },
        };
        AmqpAttach attach = AmqpAttach.Decode(Reference.Encode(theirs));
        Assert.Equal("rheaSender_1", Text(attach.Name));
        Assert.Equal(4u, attach.Handle);
        Assert.Equal(AmqpRole.Receiver, attach.Role);
        Assert.Equal(AmqpSenderSettleMode.Settled, attach.EffectiveSndSettleMode);
        Assert.Equal(AmqpReceiverSettleMode.Second, attach.EffectiveRcvSettleMode);
        Assert.True(attach.Source.IsPresent);
        Assert.Equal("/devices/dev1/messages/deviceBound", Text(attach.Source.Address));
        Assert.Equal(1u, attach.Source.Durable);
        Assert.Equal("link-detach", Text(attach.Source.ExpiryPolicy));
        Assert.Equal(30u, attach.Source.Timeout);
        Assert.True(AmqpMap.TryGetValue(attach.Source.Filter, "f"u8, out _));
        Assert.True(AmqpSymbols.Contains(attach.Source.Outcomes, "amqp:accepted:list"u8));
        Assert.Equal(AmqpDescriptor.Released, AmqpPerformativeBody.PeekDescriptor(attach.Source.DefaultOutcome));
        Assert.Equal("/devices/dev1/messages/events", Text(attach.Target.Address));
        Assert.True(AmqpSymbols.Contains(attach.Target.Capabilities, "cap"u8));
        Assert.Equal(7u, attach.InitialDeliveryCount);
        Assert.Equal(262_144ul, attach.MaxMessageSize);
        Assert.True(AmqpMap.TryGetValue(attach.Properties, "com.microsoft:channel-correlation-id"u8, out ReadOnlySpan<byte> channel));
        Assert.Equal("twin:abc", Text(AmqpMap.GetText(channel)));
    }

    [Fact]
    public void Attach_ToReference_EncodesEveryField()
    {
        var attach = new AmqpAttach
        {
            Name = "link"u8, Handle = 0, Role = AmqpRole.Sender, SndSettleMode = AmqpSenderSettleMode.Unsettled, RcvSettleMode = AmqpReceiverSettleMode.First,
            Source = new AmqpSource { IsPresent = true, Address = "/devices/d/messages/deviceBound"u8 },
            Target = new AmqpTarget { IsPresent = true, Address = "target"u8, Dynamic = false },
            InitialDeliveryCount = 0, MaxMessageSize = 1 << 20, OfferedCapabilities = s_capabilities, Properties = s_properties,
        };
        byte[] bytes = Encoded.Performative(attach);
        var theirs = Reference.Decode<Ref.Attach>(bytes);
        Assert.Equal("link", theirs.LinkName);
        Assert.False(theirs.Role);
        Assert.Equal(Ref.SenderSettleMode.Unsettled, theirs.SndSettleMode);
        Assert.Equal("/devices/d/messages/deviceBound", Assert.IsType<Ref.Source>(theirs.Source).Address);
        Assert.Equal("target", Assert.IsType<Ref.Target>(theirs.Target).Address);
        Assert.Equal(1ul << 20, theirs.MaxMessageSize);
        Assert.Equal("2021-04-12", theirs.Properties[new Symbol("com.microsoft:api-version")]);

        AmqpAttach again = AmqpAttach.Decode(bytes);
        Assert.Equal("target", Text(again.Target.Address));
        Assert.Equal(0u, again.InitialDeliveryCount);
        Assert.Equal(bytes, Encoded.Performative(again));
    }

    [Fact]
    public void Flow_BothDirections()
    {
        AmqpFlow flow = AmqpFlow.Decode(Reference.Encode(new Ref.Flow { NextIncomingId = 1, IncomingWindow = 2, NextOutgoingId = 3, OutgoingWindow = 4, Handle = 5, DeliveryCount = 6, LinkCredit = 50, Available = 8, Drain = true, Echo = true }));
        Assert.Equal(((uint?)1, 2u, 3u, 4u, (uint?)5, (uint?)6, (uint?)50, (uint?)8, (bool?)true, (bool?)true),
            (flow.NextIncomingId, flow.IncomingWindow, flow.NextOutgoingId, flow.OutgoingWindow, flow.Handle, flow.DeliveryCount, flow.LinkCredit, flow.Available, flow.Drain, flow.Echo));

        var theirs = Reference.Decode<Ref.Flow>(Encoded.Performative(new AmqpFlow { IncomingWindow = 10, NextOutgoingId = 11, OutgoingWindow = 12 }));
        Assert.False(theirs.HasHandle);
        Assert.Equal((10u, 11u, 12u), (theirs.IncomingWindow, theirs.NextOutgoingId, theirs.OutgoingWindow));
        theirs = Reference.Decode<Ref.Flow>(Encoded.Performative(new AmqpFlow { NextIncomingId = 1, IncomingWindow = 10, NextOutgoingId = 11, OutgoingWindow = 12, Handle = 0, DeliveryCount = 3, LinkCredit = 100, Drain = true }));
        Assert.True(theirs.HasHandle);
        Assert.Equal((0u, 3u, 100u, true), (theirs.Handle, theirs.DeliveryCount, theirs.LinkCredit, theirs.Drain));
    }

    [Fact]
    public void Transfer_FromReference_DecodesEveryFieldAndSlicesThePayload()
    {
        byte[] tag = Guid.NewGuid().ToByteArray();
        byte[] performative = Reference.Encode(new Ref.Transfer
        {
            Handle = 1, DeliveryId = 42, DeliveryTag = tag, MessageFormat = AmqpMessageFormat.Batch, Settled = false, More = true,
            RcvSettleMode = Ref.ReceiverSettleMode.Second, State = new Ref.Modified { DeliveryFailed = true }, Resume = true, Aborted = true, Batchable = true,
        });
        byte[] body = [.. performative, 1, 2, 3];
        AmqpTransfer transfer = AmqpTransfer.Decode(body, out int payloadOffset);
        Assert.Equal(performative.Length, payloadOffset);
        Assert.Equal(1u, transfer.Handle);
        Assert.Equal(42u, transfer.DeliveryId);
        Assert.Equal(tag, transfer.DeliveryTag.ToArray());
        Assert.Equal(AmqpMessageFormat.Batch, transfer.MessageFormat);
        Assert.False(transfer.Settled);
        Assert.True(transfer.More);
        Assert.Equal(AmqpReceiverSettleMode.Second, transfer.RcvSettleMode);
        Assert.Equal(AmqpDeliveryStateKind.Modified, transfer.State.Kind);
        Assert.True(transfer.State.DeliveryFailed);
        Assert.True(transfer.Resume && transfer.Aborted && transfer.Batchable);
    }

    [Fact]
    public void Transfer_ToReference_EncodesTagIdFormatAndFlags()
    {
        var transfer = new AmqpTransfer { Handle = 2, DeliveryId = uint.MaxValue, DeliveryTag = [1, 2, 3], MessageFormat = 0, Settled = true, State = AmqpDeliveryState.Accepted };
        var theirs = Reference.Decode<Ref.Transfer>(Encoded.Performative(transfer));
        Assert.Equal((2u, uint.MaxValue, 0u, true, false), (theirs.Handle, theirs.DeliveryId, theirs.MessageFormat, theirs.Settled, theirs.More));
        Assert.Equal([1, 2, 3], theirs.DeliveryTag);
        Assert.IsType<Ref.Accepted>(theirs.State);

        // A continuation transfer carries only the handle (and more).
        byte[] continuation = Encoded.Performative(new AmqpTransfer { Handle = 2, More = true });
        AmqpTransfer decoded = AmqpTransfer.Decode(continuation, out _);
        Assert.Null(decoded.DeliveryId);
        Assert.True(decoded.DeliveryTag.IsEmpty);
        Assert.True(decoded.More);
    }

    [Fact]
    public void Disposition_EveryOutcome_BothDirections()
    {
        var rejected = new Ref.Rejected { Error = new Ref.Error(new Symbol("amqp:not-found")) { Description = "no such device", Info = new Fields { [new Symbol("com.microsoft:tracking-id")] = "t-1" } } };
        Ref.DeliveryState[] states = [new Ref.Accepted(), rejected, new Ref.Released(), new Ref.Modified { DeliveryFailed = true, UndeliverableHere = true, MessageAnnotations = new Fields { [new Symbol("x-opt-a")] = 1 } }];
        AmqpDeliveryStateKind[] kinds = [AmqpDeliveryStateKind.Accepted, AmqpDeliveryStateKind.Rejected, AmqpDeliveryStateKind.Released, AmqpDeliveryStateKind.Modified];
        for (int i = 0; i < states.Length; i++)
        {
            byte[] bytes = Reference.Encode(new Ref.Dispose { Role = true, First = 10, Last = 20, Settled = true, State = states[i], Batchable = true });
            AmqpDisposition disposition = AmqpDisposition.Decode(bytes);
            Assert.Equal(AmqpRole.Receiver, disposition.Role);
            Assert.Equal((10u, 20u, (bool?)true, (bool?)true), (disposition.First, disposition.EffectiveLast, disposition.Settled, disposition.Batchable));
            Assert.Equal(kinds[i], disposition.State.Kind);

            // Re-encoded by us, decoded by the reference: the same outcome.
            var theirs = Reference.Decode<Ref.Dispose>(Encoded.Performative(disposition));
            Assert.Equal(states[i].GetType(), theirs.State.GetType());
            Assert.Equal((10u, 20u, true), (theirs.First, theirs.Last, theirs.Settled));
        }

        // received (AMQPNetLite keeps it internal): ours both ways.
        byte[] received = Encoded.Performative(new AmqpDisposition { Role = AmqpRole.Sender, First = 4, State = AmqpDeliveryState.Received(2, 3) });
        AmqpDisposition receivedAgain = AmqpDisposition.Decode(received);
        Assert.Equal((AmqpDeliveryStateKind.Received, 2u, 3ul), (receivedAgain.State.Kind, receivedAgain.State.SectionNumber, receivedAgain.State.SectionOffset));

        AmqpDisposition withError = AmqpDisposition.Decode(Reference.Encode(new Ref.Dispose { Role = true, First = 1, State = rejected }));
        Assert.Equal("amqp:not-found", Text(withError.State.Error.Condition));
        Assert.Equal("no such device", Text(withError.State.Error.Description));
        Assert.True(AmqpMap.TryGetValue(withError.State.Error.Info, AmqpErrorConditions.TrackingId, out _));
        Assert.Equal(1u, withError.EffectiveLast);

        AmqpDisposition modified = AmqpDisposition.Decode(Reference.Encode(new Ref.Dispose { Role = false, First = 1, State = states[3] }));
        Assert.Equal(((bool?)true, (bool?)true), (modified.State.DeliveryFailed, modified.State.UndeliverableHere));
        Assert.True(AmqpMap.TryGetValue(modified.State.MessageAnnotations, "x-opt-a"u8, out _));
    }

    [Fact]
    public void DetachEndClose_WithAndWithoutError_BothDirections()
    {
        var error = new AmqpError(AmqpErrorConditions.DetachForced, "gone"u8);
        var detach = Reference.Decode<Ref.Detach>(Encoded.Performative(new AmqpDetach { Handle = 3, Closed = true, Error = error }));
        Assert.Equal((3u, true, "amqp:link:detach-forced", "gone"), (detach.Handle, detach.Closed, (string)detach.Error.Condition, detach.Error.Description));
        Assert.Null(Reference.Decode<Ref.End>(Encoded.Performative(new AmqpEnd())).Error);
        Assert.Equal("amqp:connection:forced", (string)Reference.Decode<Ref.Close>(Encoded.Performative(new AmqpClose { Error = new AmqpError(AmqpErrorConditions.ConnectionForced) })).Error.Condition);
        Assert.Equal(Hex.Parse("00 53 18 45"), Encoded.Performative(new AmqpClose()));

        AmqpDetach ours = AmqpDetach.Decode(Reference.Encode(new Ref.Detach { Handle = 1, Closed = true, Error = new Ref.Error(new Symbol("amqp:unauthorized-access")) { Description = "no" } }));
        Assert.Equal((1u, (bool?)true), (ours.Handle, ours.Closed));
        Assert.True(ours.Error.Condition.SequenceEqual(AmqpErrorConditions.UnauthorizedAccess));
        AmqpEnd end = AmqpEnd.Decode(Reference.Encode(new Ref.End { Error = new Ref.Error(new Symbol("amqp:internal-error")) }));
        Assert.True(end.Error.Condition.SequenceEqual(AmqpErrorConditions.InternalError));
        Assert.False(AmqpClose.Decode(Reference.Encode(new Ref.Close())).Error.IsPresent);
    }

    [Fact]
    public void Sasl_EveryFrameBody_BothDirections()
    {
        byte[] mechanisms = Encoded.With((ref AmqpWriter w) => w.WriteSymbolArray("PLAIN", "ANONYMOUS", "EXTERNAL", "MSSBCBS"));
        var theirMechanisms = Reference.Decode<RefSasl.SaslMechanisms>(Encoded.Performative(new AmqpSaslMechanisms { Mechanisms = mechanisms }));
        Assert.Equal(["PLAIN", "ANONYMOUS", "EXTERNAL", "MSSBCBS"], theirMechanisms.SaslServerMechanisms.Select(s => (string)s));
        AmqpSaslMechanisms ourMechanisms = AmqpSaslMechanisms.Decode(Reference.Encode(new RefSasl.SaslMechanisms { SaslServerMechanisms = ["ANONYMOUS"] }));
        Assert.True(AmqpSymbols.Contains(ourMechanisms.Mechanisms, "ANONYMOUS"u8));

        byte[] plain = [0, .. "dev1@sas.hub"u8, 0, .. "SharedAccessSignature sr=x"u8];
        AmqpSaslInit init = AmqpSaslInit.Decode(Reference.Encode(new RefSasl.SaslInit { Mechanism = "PLAIN", InitialResponse = plain, HostName = "hub" }));
        Assert.Equal(("PLAIN", "hub"), (Text(init.Mechanism), Text(init.Hostname)));
        Assert.Equal(plain, init.InitialResponse.ToArray());
        var theirInit = Reference.Decode<RefSasl.SaslInit>(Encoded.Performative(init));
        Assert.Equal(("PLAIN", "hub"), ((string)theirInit.Mechanism, theirInit.HostName));
        Assert.Equal(plain, theirInit.InitialResponse);

        Assert.Equal([9, 8], AmqpSaslChallenge.Decode(Reference.Encode(new RefSasl.SaslChallenge { Challenge = [9, 8] })).Challenge.ToArray());
        Assert.Equal([7], Reference.Decode<RefSasl.SaslChallenge>(Encoded.Performative(new AmqpSaslChallenge { Challenge = [7] })).Challenge);
        Assert.Equal([6], AmqpSaslResponse.Decode(Reference.Encode(new RefSasl.SaslResponse { Response = [6] })).Response.ToArray());
        Assert.Equal([5], Reference.Decode<RefSasl.SaslResponse>(Encoded.Performative(new AmqpSaslResponse { Response = [5] })).Response);

        Assert.Equal(AmqpSaslCode.Auth, AmqpSaslOutcome.Decode(Reference.Encode(new RefSasl.SaslOutcome { Code = RefSasl.SaslCode.Auth })).Code);
        var outcome = Reference.Decode<RefSasl.SaslOutcome>(Encoded.Performative(new AmqpSaslOutcome { Code = AmqpSaslCode.Ok, AdditionalData = [1] }));
        Assert.Equal((RefSasl.SaslCode.Ok, 1), (outcome.Code, outcome.AdditionalData.Length));
    }

    [Fact]
    public void Decoders_MissingMandatoryFields_ThrowMissingMandatoryField()
    {
        AssertDecodeError(AmqpDecodeError.MissingMandatoryField, Hex.Parse("00 53 10 45"), b => AmqpOpen.Decode(b));
        AssertDecodeError(AmqpDecodeError.MissingMandatoryField, Hex.Parse("00 53 11 C0 03 02 40 43"), b => AmqpBegin.Decode(b));
        AssertDecodeError(AmqpDecodeError.MissingMandatoryField, Hex.Parse("00 53 12 C0 04 02 A1 01 61"), b => AmqpAttach.Decode(b));
        AssertDecodeError(AmqpDecodeError.MissingMandatoryField, Hex.Parse("00 53 14 45"), b => AmqpTransfer.Decode(b, out _));
        AssertDecodeError(AmqpDecodeError.MissingMandatoryField, Hex.Parse("00 53 15 C0 02 01 41"), b => AmqpDisposition.Decode(b));
        AssertDecodeError(AmqpDecodeError.MissingMandatoryField, Hex.Parse("00 53 16 C0 02 01 40"), b => AmqpDetach.Decode(b));
        AssertDecodeError(AmqpDecodeError.MissingMandatoryField, Hex.Parse("00 53 41 45"), b => AmqpSaslInit.Decode(b));
    }

    [Fact]
    public void Decoders_InvalidValues_ThrowTypedErrors()
    {
        // snd-settle-mode 3
        AssertDecodeError(AmqpDecodeError.InvalidField, Hex.Parse("00 53 12 C0 08 04 A1 01 61 43 41 50 03"), b => AmqpAttach.Decode(b));
        // a 33-byte delivery tag
        byte[] tag = Encoded.With((ref AmqpWriter w) =>
        {
            w.BeginDescribedList(AmqpDescriptor.Transfer);
            w.WriteUInt(0);
            w.WriteUInt(0);
            w.WriteBinary(new byte[33]);
            w.EndList();
        });
        AssertDecodeError(AmqpDecodeError.InvalidField, tag, b => AmqpTransfer.Decode(b, out _));
        // wrong performative
        AssertDecodeError(AmqpDecodeError.UnexpectedDescriptor, Hex.Parse("00 53 18 45"), b => AmqpOpen.Decode(b));
        // a handle that is a string
        AssertDecodeError(AmqpDecodeError.UnexpectedType, Hex.Parse("00 53 16 C0 04 01 A1 01 61"), b => AmqpDetach.Decode(b));
        // bytes after a close
        AssertDecodeError(AmqpDecodeError.TrailingBytes, Hex.Parse("00 53 18 45 40"), b => AmqpClose.Decode(b));
        // sasl code 9
        AssertDecodeError(AmqpDecodeError.InvalidField, Hex.Parse("00 53 44 C0 03 01 50 09"), b => AmqpSaslOutcome.Decode(b));
    }

    [Fact]
    public void ErrorConditions_DecodeErrors_MapToAmqpConditions()
    {
        Assert.Equal("amqp:decode-error", Text(AmqpDecodeError.Truncated.GetCondition()));
        Assert.Equal("amqp:connection:framing-error", Text(AmqpDecodeError.FrameTooLarge.GetCondition()));
        Assert.Equal("amqp:invalid-field", Text(AmqpDecodeError.InvalidField.GetCondition()));
        Assert.Equal("amqp:decode-error", Text(new AmqpDecodeException(AmqpDecodeError.InvalidBoolean).Condition));
        Assert.Equal("com.microsoft:device-container-throttled", Text(AmqpErrorConditions.DeviceContainerThrottled));
    }

    internal static void AssertDecodeError(AmqpDecodeError expected, byte[] bytes, Action<byte[]> decode)
    {
        var exception = Assert.Throws<AmqpDecodeException>(() => decode(bytes));
        Assert.Equal(expected, exception.Error);
    }

    private static string Text(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);
}
