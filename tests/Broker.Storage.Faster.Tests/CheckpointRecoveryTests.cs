using System.Text;
using Broker.Core.Storage;
using Broker.Storage.Faster.Recovery;

namespace Broker.Storage.Faster.Tests;

public sealed class CheckpointRecoveryTests
{
    [Fact]
    public async Task Checkpoint_ThenMoreChanges_ReopenRestoresCheckpointAndReplaysRedoLog()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        await using (var store = TestStores.Open(options))
        {
            var state = store.GetPartition(0).State;
            for (int i = 0; i < 500; i++)
            {
                state.Put(StateRecordKind.Twin, $"k{i % 50}", $"before-{i}");
            }

            await store.CheckpointAsync();
            long last = 0;
            for (int i = 0; i < 100; i++)
            {
                last = state.Put(StateRecordKind.Twin, $"k{i % 10}", $"after-{i}");
            }

            last = Math.Max(last, state.Delete(StateRecordKind.Twin, Encoding.UTF8.GetBytes("k49")));
            await state.WaitDurableAsync(last);
        }

        var manifest = ManifestFile.TryRead(Path.Combine(dir.Path, "p00"));
        Assert.NotNull(manifest!.CheckpointToken);
        Assert.True(manifest.StateLogAddress > DurableLogFirstAddress);

        var logs = new ListLoggerFactory();
        await using (var store = FasterHubStore.Open(options, logs))
        {
            var state = store.GetPartition(0).State;
            for (int k = 0; k < 10; k++)
            {
                Assert.Equal($"after-{90 + k}", Encoding.UTF8.GetString(state.Read(StateRecordKind.Twin, $"k{k}")!));
            }

            Assert.Equal("before-498", Encoding.UTF8.GetString(state.Read(StateRecordKind.Twin, "k48")!));
            Assert.Null(state.Read(StateRecordKind.Twin, "k49"));
        }

        Assert.Contains(logs.Messages, m => m.Message.Contains($"checkpoint {manifest.CheckpointToken}", StringComparison.Ordinal)
            && m.Message.Contains("101 state records replayed", StringComparison.Ordinal));
    }

    private const long DurableLogFirstAddress = 64;
}
