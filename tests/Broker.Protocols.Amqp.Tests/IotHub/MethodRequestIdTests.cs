using System.Buffers;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.IotHub;

namespace Broker.Protocols.Amqp.Tests.IotHub;

/// <summary>
/// Method request ids over AMQP are GUIDs (the C# device SDK answers with <c>new Guid(request id)</c>) and map back
/// to the invoker's id whichever way the device echoes them.
/// </summary>
public sealed class MethodRequestIdTests
{
    [Theory]
    [InlineData("1")]
    [InlineData("2a")]
    [InlineData("ffffffffffffffff")]
    public void MethodRequestId_TheUuidEchoedAsUuidGuidTextOrBinary_IsTheInvokersId(string requestId)
    {
        Guid uuid = Assert.IsType<Guid>(IotHubAmqpMessages.MethodRequestUuid(requestId));

        Assert.Equal(requestId, IotHubAmqpMessages.MethodRequestId(AmqpMessageId.From(IotHubAmqpMessages.EncodeUuid(uuid))));
        Assert.Equal(requestId, IotHubAmqpMessages.MethodRequestId(AmqpMessageId.From(IotHubAmqpMessages.EncodeString(uuid.ToString()))));
        Assert.Equal(requestId, IotHubAmqpMessages.MethodRequestId(AmqpMessageId.From(EncodeBinary(uuid.ToByteArray(bigEndian: true)))));
    }

    [Fact]
    public void MethodRequestId_OfOtherIds_IsTheirText()
    {
        Assert.Null(IotHubAmqpMessages.MethodRequestUuid("not-a-counter"));
        Assert.Null(IotHubAmqpMessages.MethodRequestUuid("10000000000000000")); // 17 hex digits
        Assert.Equal("abc-1", IotHubAmqpMessages.MethodRequestId(AmqpMessageId.From(IotHubAmqpMessages.EncodeString("abc-1"))));
        var other = Guid.NewGuid();
        Assert.Equal(other.ToString(), IotHubAmqpMessages.MethodRequestId(AmqpMessageId.From(IotHubAmqpMessages.EncodeUuid(other))));
    }

    private static byte[] EncodeBinary(byte[] value)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new AmqpWriter(output);
        writer.WriteBinary(value);
        writer.Commit();
        return output.WrittenSpan.ToArray();
    }
}
