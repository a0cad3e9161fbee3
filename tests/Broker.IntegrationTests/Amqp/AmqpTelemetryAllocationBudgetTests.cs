using Broker.Benchmarks.Amqp;
using Broker.Testing;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Amqp;

/// <summary>
/// Rule 1 for telemetry over AMQP, end to end in process (the pipeline <c>AmqpTelemetryPipelineBenchmarks</c> drives):
/// transfers in → AMQP engine → IoT Hub telemetry endpoint → events log append → group commit → accepted dispositions
/// out. Several threads take part (read loop, commit loop, outbox writer), so bytes are counted process-wide; FASTER's
/// own per-commit allocation, which <c>GroupCommit.PerCommit</c> budgets, is taken out at that budget per commit, and
/// what remains per message must stay within <c>AmqpTelemetry.PerMessage</c> of <c>benchmarks/allocation-budget.json</c>.
/// Alone in its collection: nothing else may allocate in the process while it measures.
/// </summary>
[Collection(nameof(AmqpTelemetryAllocationBudgetTests))]
public sealed class AmqpTelemetryAllocationBudgetTests(ITestOutputHelper output)
{
    private const int MessagesPerBatch = 1000;
    private const int WarmUpBatches = 200;
    private const int MeasuredBatches = 500;

    [Theory]
    [InlineData(256, 0)]
    [InlineData(1024, 0)]
    [InlineData(1024, 4096)] // frames straddling 4 KB pipe segments, as from a socket
    public async Task TransferToAccepted_SteadyState_AllocatesWithinBudgetPerMessage(int payloadBytes, int segmentBytes)
    {
        using var directory = new TempDirectory();
        await using var pipeline = await AmqpTelemetryPipeline.StartAsync(directory.Path, MessagesPerBatch, payloadBytes, segmentBytes);

        (long bytes, long commits) = await MeasureAsync(pipeline).WaitAsync(TimeSpan.FromMinutes(3));

        double messages = (double)MeasuredBatches * MessagesPerBatch;
        long perCommitBudget = AllocationBudgets.Of("GroupCommit.PerCommit");
        double beyondCommits = (bytes - (commits * perCommitBudget)) / messages;
        output.WriteLine($"AmqpTelemetry.PerMessage ({payloadBytes} B, segments {segmentBytes}): {bytes / messages:F3} B per message process-wide, {commits:N0} commits "
            + $"({messages / Math.Max(commits, 1):F0} messages, {bytes / (double)Math.Max(commits, 1):F0} B per commit); "
            + $"{beyondCommits:F3} B per message beyond {perCommitBudget} B per commit");
        long budget = AllocationBudgets.Of("AmqpTelemetry.PerMessage");
        Assert.True(Math.Round(beyondCommits, MidpointRounding.ToEven) <= budget,
            $"Telemetry over AMQP allocates {beyondCommits:F3} B per message beyond the group commits; the budget is {budget} B.");
    }

    private static async Task<(long Bytes, long Commits)> MeasureAsync(AmqpTelemetryPipeline pipeline)
    {
        for (int i = 0; i < WarmUpBatches; i++)
        {
            await pipeline.SendBatchAsync(); // tiered JIT, the pipes' and the durability queue's pools, FASTER's first pages
        }

        long commits = pipeline.GroupCommits;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < MeasuredBatches; i++)
        {
            await pipeline.SendBatchAsync();
        }

        long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
        return (bytes, pipeline.GroupCommits - commits);
    }
}

[CollectionDefinition(nameof(AmqpTelemetryAllocationBudgetTests), DisableParallelization = true)]
public sealed class AmqpTelemetryAllocationBudgetCollection;
