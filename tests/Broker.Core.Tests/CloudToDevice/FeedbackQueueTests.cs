using System.Text.Json;
using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using static Broker.Core.Tests.CloudToDevice.CloudToDeviceHarness;

namespace Broker.Core.Tests.CloudToDevice;

public sealed class FeedbackQueueTests
{
    private const string Dev = "dev1";
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);
    private static readonly object Owner = new();

    private static FeedbackRecord Record(string messageId, DateTimeOffset at) => new()
    {
        OriginalMessageId = messageId,
        EnqueuedTimeUtc = at,
        StatusCode = FeedbackStatus.Success,
        Description = "Success",
        DeviceId = Dev,
        DeviceGenerationId = "1",
    };

    private static async Task<FeedbackBatch> ReceiveAsync(CloudToDeviceHarness h) => await h.Feedback.ReceiveAsync().AsTask().WaitAsync(Hang);

    [Fact]
    public async Task Records_AreNotReceivableUntilTheBatchDelayPasses()
    {
        await using var h = await CreateAsync(null, Dev);
        await h.SendAsync(Dev, "x", "mid", FeedbackMode.Positive);
        await h.Service.CompleteAsync(Dev, h.LockNext(Dev, Owner).LockToken);

        var receive = h.Feedback.ReceiveAsync().AsTask();
        Assert.False(receive.IsCompleted);
        h.Time.Advance(h.Options.FeedbackBatchDelay - TimeSpan.FromTicks(1));
        Assert.False(receive.IsCompleted);
        h.Time.Advance(TimeSpan.FromTicks(1));

        var batch = await receive.WaitAsync(Hang);
        Assert.Equal("mid", Assert.Single(batch.Records).OriginalMessageId);
        Assert.NotEqual(Guid.Empty, batch.LockToken);
        Assert.Equal(h.Time.GetUtcNow(), batch.EnqueuedTime);
        Assert.Equal("application/vnd.microsoft.iothub.feedback.json", FeedbackBatch.ContentType);
    }

    [Fact]
    public async Task Batch_BodyIsIotHubsFeedbackJsonArray()
    {
        await using var h = await CreateAsync(null, Dev);
        var device = h.Identities.GetDevice(Dev);
        await h.SendAsync(Dev, "a", "m-success", FeedbackMode.Full);
        await h.SendAsync(Dev, "b", "m-rejected", FeedbackMode.Full);
        await h.Service.CompleteAsync(Dev, h.LockNext(Dev, Owner).LockToken);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.Service.RejectAsync(Dev, h.LockNext(Dev, Owner).LockToken);

        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var batch = await ReceiveAsync(h);

        using var json = JsonDocument.Parse(batch.Body);
        Assert.Equal(JsonValueKind.Array, json.RootElement.ValueKind);
        Assert.Equal(2, json.RootElement.GetArrayLength());
        var first = json.RootElement[0];
        Assert.Equal("m-success", first.GetProperty("originalMessageId").GetString());
        Assert.Equal("2026-11-26T12:00:00Z", first.GetProperty("enqueuedTimeUtc").GetString());
        Assert.Equal(JsonValueKind.String, first.GetProperty("statusCode").ValueKind);
        Assert.Equal("Success", first.GetProperty("statusCode").GetString());
        Assert.Equal("Success", first.GetProperty("description").GetString());
        Assert.Equal(Dev, first.GetProperty("deviceId").GetString());
        Assert.Equal(device.GenerationId, first.GetProperty("deviceGenerationId").GetString());
        var second = json.RootElement[1];
        Assert.Equal("m-rejected", second.GetProperty("originalMessageId").GetString());
        Assert.Equal("2026-11-26T12:00:01Z", second.GetProperty("enqueuedTimeUtc").GetString());
        Assert.Equal("Rejected", second.GetProperty("statusCode").GetString());
        Assert.Equal("Message Rejected", second.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Batch_StatusCodeNamesAndDescriptions()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { MaxDeliveryCount = 1 }, Dev);
        await h.SendAsync(Dev, "a", "expired", FeedbackMode.Full, TimeSpan.FromMinutes(1));
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.SendAsync(Dev, "b", "abandoned", FeedbackMode.Full);
        await h.Service.AbandonAsync(Dev, h.LockNext(Dev, Owner).LockToken);
        await h.SendAsync(Dev, "c", "purged", FeedbackMode.Full);
        await h.Service.PurgeAsync(Dev);

        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var batch = await ReceiveAsync(h);

        using var json = JsonDocument.Parse(batch.Body);
        var entries = json.RootElement.EnumerateArray()
            .Select(e => (e.GetProperty("originalMessageId").GetString(), e.GetProperty("statusCode").GetString(), e.GetProperty("description").GetString()))
            .ToArray();
        Assert.Equal(
            [
                ("expired", "Expired", "Message Expired"),
                ("abandoned", "DeliveryCountExceeded", "Message Delivery Count Exceeded"),
                ("purged", "Purged", "Message Purged"),
            ],
            entries);
    }

    [Fact]
    public async Task Batch_IsOfferedAtOnceWhenBatchSizeRecordsAccumulate()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { FeedbackBatchSize = 3 }, Dev);
        var receive = h.Feedback.ReceiveAsync().AsTask();
        h.Feedback.Add(Record("r1", h.Time.GetUtcNow()));
        h.Feedback.Add(Record("r2", h.Time.GetUtcNow()));
        Assert.False(receive.IsCompleted);
        h.Feedback.Add(Record("r3", h.Time.GetUtcNow()));
        h.Feedback.Add(Record("r4", h.Time.GetUtcNow()));

        var batch = await receive.WaitAsync(Hang);
        Assert.Equal(["r1", "r2", "r3"], batch.Records.Select(r => r.OriginalMessageId));

        // the fourth waits for its own delay
        var next = h.Feedback.ReceiveAsync().AsTask();
        Assert.False(next.IsCompleted);
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        Assert.Equal("r4", Assert.Single((await next.WaitAsync(Hang)).Records).OriginalMessageId);
        Assert.Equal(4, h.Feedback.Count);
    }

    [Fact]
    public async Task Batch_HoldsAtMostBatchSizeRecords()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { FeedbackBatchSize = 2 }, Dev);
        for (int i = 1; i <= 5; i++)
        {
            h.Feedback.Add(Record($"r{i}", h.Time.GetUtcNow()));
        }

        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var sizes = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            var batch = await ReceiveAsync(h);
            sizes.Add(batch.Records.Count);
            await h.Feedback.CompleteAsync(batch.LockToken);
        }

        Assert.Equal([2, 2, 1], sizes);
        Assert.Equal(0, h.Feedback.Count);
    }

    [Fact]
    public async Task Complete_DeletesTheRecords_SecondCompleteFails412002()
    {
        await using var h = await CreateAsync(null, Dev);
        h.Feedback.Add(Record("r1", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var batch = await ReceiveAsync(h);

        await h.Feedback.CompleteAsync(batch.LockToken);

        Assert.Equal(0, h.Feedback.Count);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Feedback.CompleteAsync(batch.LockToken).AsTask());
        Assert.Throws<IotHubException>(() => h.Feedback.Abandon(batch.LockToken));
        Assert.False(h.Feedback.ReceiveAsync().AsTask().IsCompleted);

        await h.ReopenAsync();
        Assert.Equal(0, h.Feedback.Count);
    }

    [Fact]
    public async Task Abandon_OffersTheSameBatchAgain()
    {
        await using var h = await CreateAsync(null, Dev);
        h.Feedback.Add(Record("r1", h.Time.GetUtcNow()));
        h.Feedback.Add(Record("r2", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var first = await ReceiveAsync(h);
        Assert.False(h.Feedback.ReceiveAsync().AsTask().IsCompleted); // locked: not offered twice

        h.Feedback.Abandon(first.LockToken);

        var second = await ReceiveAsync(h);
        Assert.Equal(first.Body, second.Body);
        Assert.NotEqual(first.LockToken, second.LockToken);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Feedback.CompleteAsync(first.LockToken).AsTask());
        await h.Feedback.CompleteAsync(second.LockToken);
        Assert.Equal(0, h.Feedback.Count);
    }

    [Fact]
    public async Task Abandon_WakesAWaitingReceiver()
    {
        await using var h = await CreateAsync(null, Dev);
        h.Feedback.Add(Record("r1", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var first = await ReceiveAsync(h);
        var waiting = h.Feedback.ReceiveAsync().AsTask();
        Assert.False(waiting.IsCompleted);

        h.Feedback.Abandon(first.LockToken);

        Assert.Equal("r1", Assert.Single((await waiting.WaitAsync(Hang)).Records).OriginalMessageId);
    }

    [Fact]
    public async Task LockExpiry_OffersTheBatchAgain_CompletingTheExpiredLockFails412002()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { FeedbackLockDuration = TimeSpan.FromSeconds(30) }, Dev);
        h.Feedback.Add(Record("r1", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var first = await ReceiveAsync(h);
        var waiting = h.Feedback.ReceiveAsync().AsTask();

        h.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(waiting.IsCompleted);
        h.Time.Advance(TimeSpan.FromSeconds(1));

        var second = await waiting.WaitAsync(Hang);
        Assert.Equal("r1", Assert.Single(second.Records).OriginalMessageId);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Feedback.CompleteAsync(first.LockToken).AsTask());
        Assert.Throws<IotHubException>(() => h.Feedback.Abandon(first.LockToken));
        Assert.Equal(1, h.Feedback.Count);
        await h.Feedback.CompleteAsync(second.LockToken);
        Assert.Equal(0, h.Feedback.Count);
    }

    [Fact]
    public async Task LockExpiry_WithoutAWaitingReceiver_CompletingFails412002()
    {
        await using var h = await CreateAsync(null, Dev);
        h.Feedback.Add(Record("r1", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var batch = await ReceiveAsync(h);
        h.Time.Advance(h.Options.FeedbackLockDuration);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Feedback.CompleteAsync(batch.LockToken).AsTask());
        Assert.Equal(1, h.Feedback.Count);
    }

    [Fact]
    public async Task Reopen_UncompletedRecordsSurvive_InOrder_CompletedOnesDoNot()
    {
        var h = await CreateAsync(new CloudToDeviceOptions { FeedbackBatchSize = 2 }, Dev);
        await using (h)
        {
            for (int i = 1; i <= 5; i++)
            {
                await h.SendAsync(Dev, "x", $"m{i}", FeedbackMode.Positive);
                await h.Service.CompleteAsync(Dev, h.LockNext(Dev, Owner).LockToken);
            }

            var completed = await ReceiveAsync(h); // m1, m2
            await h.Feedback.CompleteAsync(completed.LockToken);
            var locked = await ReceiveAsync(h); // m3, m4: received, not completed
            Assert.Equal(["m3", "m4"], locked.Records.Select(r => r.OriginalMessageId));

            await h.ReopenAsync();

            Assert.Equal(3, h.Feedback.Count);
            await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Feedback.CompleteAsync(locked.LockToken).AsTask());
            var again = await ReceiveAsync(h);
            Assert.Equal(["m3", "m4"], again.Records.Select(r => r.OriginalMessageId));
            Assert.Equal(Dev, again.Records[0].DeviceId);
            Assert.Equal(FeedbackStatus.Success, again.Records[0].StatusCode);
            await h.Feedback.CompleteAsync(again.LockToken);

            // records written after the restart follow the old ones
            h.Feedback.Add(Record("new", h.Time.GetUtcNow()));
            var rest = await ReceiveAsync(h);
            Assert.Equal(["m5", "new"], rest.Records.Select(r => r.OriginalMessageId));
            await h.Feedback.CompleteAsync(rest.LockToken);

            await h.ReopenAsync();
            Assert.Equal(0, h.Feedback.Count);
        }
    }

    [Fact]
    public async Task Reopen_ARecordThatWaitedItsDelayIsOfferedAtOnce()
    {
        var h = await CreateAsync(null, Dev);
        await using (h)
        {
            h.Feedback.Add(Record("old", h.Time.GetUtcNow()));
            h.Time.Advance(h.Options.FeedbackBatchDelay);
            await h.ReopenAsync();
            Assert.Equal("old", Assert.Single((await ReceiveAsync(h)).Records).OriginalMessageId);
        }
    }

    [Fact]
    public async Task TimeToLive_RecordsNotCompletedInTime_AreDropped_AndStayDroppedAfterReopen()
    {
        var h = await CreateAsync(null, Dev);
        await using (h)
        {
            h.Feedback.Add(Record("old", h.Time.GetUtcNow()));
            h.Time.Advance(TimeSpan.FromMinutes(30));
            h.Feedback.Add(Record("young", h.Time.GetUtcNow()));

            h.Time.Advance(h.Options.FeedbackTimeToLive - TimeSpan.FromMinutes(30) - TimeSpan.FromTicks(1));
            Assert.Equal(2, h.Feedback.Count);
            h.Time.Advance(TimeSpan.FromTicks(1));
            Assert.Equal(1, h.Feedback.Count);

            await h.ReopenAsync();
            Assert.Equal(1, h.Feedback.Count);
            Assert.Equal("young", Assert.Single((await ReceiveAsync(h)).Records).OriginalMessageId);
        }
    }

    [Fact]
    public async Task TimeToLive_RecordsInAnUnlockedBatch_AreDroppedFromIt()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { FeedbackTimeToLive = TimeSpan.FromMinutes(1), FeedbackBatchSize = 2 }, Dev);
        h.Feedback.Add(Record("first", h.Time.GetUtcNow()));
        h.Time.Advance(TimeSpan.FromSeconds(10));
        h.Feedback.Add(Record("second", h.Time.GetUtcNow()));
        var batch = await ReceiveAsync(h);
        Assert.Equal(2, batch.Records.Count);
        h.Feedback.Abandon(batch.LockToken);

        h.Time.Advance(TimeSpan.FromSeconds(50)); // "first" is a minute old, "second" 50 s

        Assert.Equal(1, h.Feedback.Count);
        var again = await ReceiveAsync(h);
        Assert.Equal("second", Assert.Single(again.Records).OriginalMessageId);
        using var json = JsonDocument.Parse(again.Body);
        Assert.Equal("second", Assert.Single(json.RootElement.EnumerateArray()).GetProperty("originalMessageId").GetString());
    }

    [Fact]
    public async Task TimeToLive_ARecordInALockedBatch_CanStillBeCompleted_OrGoesWhenTheLockEnds()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { FeedbackTimeToLive = TimeSpan.FromMinutes(1) }, Dev);
        h.Feedback.Add(Record("kept", h.Time.GetUtcNow()));
        h.Feedback.Add(Record("dropped", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var completed = await ReceiveAsync(h); // both records, locked for a minute
        Assert.Equal(2, completed.Records.Count);
        h.Time.Advance(h.Options.FeedbackTimeToLive - h.Options.FeedbackBatchDelay);

        // Past their time to live, but their batch is locked: its receiver may complete it.
        Assert.Equal(2, h.Feedback.Count);
        await h.Feedback.CompleteAsync(completed.LockToken);
        Assert.Equal(0, h.Feedback.Count);

        h.Feedback.Add(Record("late", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        await ReceiveAsync(h); // locked until FeedbackBatchDelay + FeedbackLockDuration, past the time to live
        var waiting = h.Feedback.ReceiveAsync().AsTask();
        h.Time.Advance(h.Options.FeedbackLockDuration);

        Assert.Equal(0, h.Feedback.Count);
        Assert.False(waiting.IsCompleted);
    }

    [Fact]
    public async Task MaxDeliveryCount_ABatchReceivedThatOftenWithoutCompletion_IsDropped()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { FeedbackMaxDeliveryCount = 3 }, Dev);
        h.Feedback.Add(Record("r1", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);

        h.Feedback.Abandon((await ReceiveAsync(h)).LockToken);
        h.Feedback.Abandon((await ReceiveAsync(h)).LockToken);
        Assert.Equal(1, h.Feedback.Count);
        await ReceiveAsync(h); // the third time: its lock running out ends it as an abandon would
        var waiting = h.Feedback.ReceiveAsync().AsTask();
        h.Time.Advance(h.Options.FeedbackLockDuration);

        Assert.Equal(0, h.Feedback.Count);
        Assert.False(waiting.IsCompleted);
        h.Feedback.Add(Record("r2", h.Time.GetUtcNow()));
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        Assert.Equal("r2", Assert.Single((await waiting.WaitAsync(Hang)).Records).OriginalMessageId);
    }

    [Theory]
    [InlineData("00:00:59", 10)]
    [InlineData("2.00:00:01", 10)]
    [InlineData("01:00:00", 0)]
    [InlineData("01:00:00", 101)]
    public void Options_FeedbackTimeToLiveAndMaxDeliveryCount_OutsideIotHubsRanges_AreRefused(string timeToLive, int maxDeliveryCount)
    {
        var options = new CloudToDeviceOptions
        {
            FeedbackTimeToLive = TimeSpan.Parse(timeToLive, System.Globalization.CultureInfo.InvariantCulture),
            FeedbackMaxDeliveryCount = maxDeliveryCount,
        };
        var error = Assert.Throws<InvalidDataException>(options.Validate);
        Assert.Contains(maxDeliveryCount == 10 ? "FeedbackTimeToLive" : "FeedbackMaxDeliveryCount", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_FailsWaitingReceivers()
    {
        await using var h = await CreateAsync(null, Dev);
        var waiting = h.Feedback.ReceiveAsync().AsTask();
        h.Feedback.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(Hang));
    }
}
