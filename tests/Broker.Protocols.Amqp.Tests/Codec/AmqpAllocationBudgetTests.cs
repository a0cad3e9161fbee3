using System.Buffers;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;
using Xunit.Abstractions;

namespace Broker.Protocols.Amqp.Tests.Codec;

/// <summary>
/// Rule 1 for the AMQP read path: finding a transfer frame, decoding the transfer and walking a telemetry message
/// (properties, message id, application properties, 1 KB data) allocates nothing, within
/// <c>benchmarks/allocation-budget.json</c>; measured on the calling thread over 10,000 messages.
/// </summary>
public sealed class AmqpAllocationBudgetTests(ITestOutputHelper output)
{
    private const int Operations = 10_000;

    [Theory]
    [InlineData("AmqpTransfer.DecodeAndWalk", false)]
    [InlineData("AmqpTransfer.DecodeAndWalk.Split", true)]
    public void TransferDecodeAndSectionWalk_AllocatesWithinBudget(string budgetKey, bool split)
    {
        byte[] frame = Samples.TelemetryTransferFrame(1024);
        ReadOnlySequence<byte> buffer = split ? Sequences.Split(frame, 20) : new ReadOnlySequence<byte>(frame);
        long checksum = 0;
        for (int i = 0; i < 1_000; i++)
        {
            checksum += TelemetryReadPath.Run(buffer);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Operations; i++)
        {
            checksum += TelemetryReadPath.Run(buffer);
        }

        double perOperation = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Operations;
        output.WriteLine($"{budgetKey}: {perOperation:F3} B per message (checksum {checksum})");
        long budget = AllocationBudgets.Of(budgetKey);
        Assert.True(Math.Round(perOperation, MidpointRounding.ToEven) <= budget, $"{budgetKey} allocates {perOperation:F3} B per message; the budget is {budget} B.");
    }
}
