using Broker.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Storage.Faster.Tests;

/// <summary>The commit loop runs on a thread of its own; what runs on it must not hold back the rest of the log.</summary>
public sealed class CommitThreadTests
{
    [Fact]
    public async Task ThrowingDurabilityCallback_IsLogged_AndEveryOtherWaiterIsStillTold()
    {
        using var dir = new TempDirectory();
        var logs = new ListLoggerFactory();
        await using var store = FasterHubStore.Open(TestStores.SmallOptions(dir.Path, partitions: 1), logs, new FakeTimeProvider(TestStores.Start));
        var events = store.GetPartition(0).Events;

        var before = events.WaitDurableAsync(events.Append(new byte[16]).EndAddress).AsTask();
        events.Append(new byte[16], new ThrowingCallback(), 0);
        var after = events.WaitDurableAsync(events.Append(new byte[16]).EndAddress).AsTask();
        await Task.WhenAll(before, after).WaitAsync(TimeSpan.FromSeconds(30));

        var later = events.Append(new byte[16]); // the log goes on committing
        await events.WaitDurableAsync(later.EndAddress).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(logs.Messages, m => m.Level == LogLevel.Error && m.Message.Contains("durability callback of the events log threw", StringComparison.Ordinal));
    }

    private sealed class ThrowingCallback : IDurabilityCallback
    {
        public void OnDurable(long token) => throw new InvalidOperationException("a callback bug");

        public void OnFailed(long token, Exception error) => throw new InvalidOperationException("a callback bug");
    }
}
