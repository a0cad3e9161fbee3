using System.Text;
using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using static Broker.Core.Tests.CloudToDevice.CloudToDeviceHarness;

namespace Broker.Core.Tests.CloudToDevice;

public sealed class CloudToDeviceServiceTests
{
    private const string Dev = "dev1";
    private static readonly object Owner = new();

    [Fact]
    public async Task Send_ThenTryLockNext_ReturnsTheMessageWithBodyPropertiesAndIds()
    {
        await using var h = await CreateAsync(null, Dev);
        var device = h.Identities.GetDevice(Dev);
        var sent = await h.Service.SendAsync(Dev, new CloudToDeviceRequest
        {
            Body = "hello"u8.ToArray(),
            MessageId = "mid-1",
            CorrelationId = "cid-1",
            UserId = "uid-1",
            ContentType = "application/json",
            ContentEncoding = "utf-8",
            Ack = FeedbackMode.Full,
            TimeToLive = TimeSpan.FromMinutes(10),
            Properties = new Dictionary<string, string?> { ["a"] = "1", ["b"] = null },
        });

        Assert.Equal(1, h.Service.PendingCount(Dev));
        var delivery = h.LockNext(Dev, Owner);
        var message = delivery.Message;
        Assert.NotEqual(Guid.Empty, delivery.LockToken);
        Assert.Equal(sent.SequenceNumber, message.SequenceNumber);
        Assert.Equal("hello", Encoding.UTF8.GetString(message.Body));
        Assert.Equal(Dev, message.DeviceId);
        Assert.Equal("mid-1", message.MessageId);
        Assert.Equal("cid-1", message.CorrelationId);
        Assert.Equal("uid-1", message.UserId);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal("utf-8", message.ContentEncoding);
        Assert.Equal(FeedbackMode.Full, message.Ack);
        Assert.Equal(TestStores.Start, message.EnqueuedTime);
        Assert.Equal(TestStores.Start.AddMinutes(10), message.ExpiryTime);
        Assert.Equal(0, message.DeliveryCount);
        Assert.Equal(device.GenerationId, message.DeviceGenerationId);
        Assert.Equal(2, message.Properties.Count);
        Assert.Equal("1", message.Properties["a"]);
        Assert.Null(message.Properties["b"]);
    }

    [Fact]
    public async Task Send_WithoutTimeToLive_UsesTheHubDefault()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { DefaultTimeToLive = TimeSpan.FromMinutes(7) }, Dev);
        var sent = await h.SendAsync(Dev, "x");
        Assert.Equal(TestStores.Start.AddMinutes(7), sent.ExpiryTime);
    }

    [Fact]
    public async Task TryLockNext_DoesNotReturnALockedMessage_AndReturnsMessagesInOrder()
    {
        await using var h = await CreateAsync(null, Dev, "dev2");
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        await h.SendAsync(Dev, "first");
        await h.SendAsync(Dev, "second");

        var first = h.LockNext(Dev, Owner);
        var second = h.LockNext(Dev, Owner);
        Assert.Equal("first", Encoding.UTF8.GetString(first.Message.Body));
        Assert.Equal("second", Encoding.UTF8.GetString(second.Message.Body));
        Assert.NotEqual(first.LockToken, second.LockToken);
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        Assert.False(h.Service.TryLockNext("dev2", Owner, out _));
        Assert.Equal(2, h.Service.PendingCount(Dev)); // locked messages are still pending
    }

    [Theory]
    [InlineData(FeedbackMode.None, false)]
    [InlineData(FeedbackMode.Positive, true)]
    [InlineData(FeedbackMode.Negative, false)]
    [InlineData(FeedbackMode.Full, true)]
    public async Task Complete_DeletesTheMessage_AndWritesSuccessFeedbackOnlyForPositiveOrFull(FeedbackMode ack, bool feedback)
    {
        await using var h = await CreateAsync(null, Dev);
        await h.SendAsync(Dev, "x", "mid", ack);
        var delivery = h.LockNext(Dev, Owner);

        await h.Service.CompleteAsync(Dev, delivery.LockToken);

        Assert.Equal(0, h.Service.PendingCount(Dev));
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        Assert.Equal(feedback ? 1 : 0, h.Feedback.Count);
        if (feedback)
        {
            var record = await ReceiveAfterDelayAsync(h);
            Assert.Equal(FeedbackStatus.Success, record.StatusCode);
            Assert.Equal("mid", record.OriginalMessageId);
        }

        // the lock is gone with the message
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, delivery.LockToken).AsTask());
    }

    [Fact]
    public async Task Send_FiftyPendingAreAccepted_TheFiftyFirstFails403004()
    {
        await using var h = await CreateAsync(null, Dev);
        for (int i = 0; i < CloudToDeviceOptions.MaxQueueDepth; i++)
        {
            await h.SendAsync(Dev, $"m{i}");
        }

        Assert.Equal(50, h.Service.PendingCount(Dev));
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMaximumQueueDepthExceeded, () => h.SendAsync(Dev, "one too many").AsTask());
        Assert.Equal(50, h.Service.PendingCount(Dev));

        // a locked message still counts; a completed one frees its place
        var delivery = h.LockNext(Dev, Owner);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMaximumQueueDepthExceeded, () => h.SendAsync(Dev, "still too many").AsTask());
        await h.Service.CompleteAsync(Dev, delivery.LockToken);
        await h.SendAsync(Dev, "fits again");
        Assert.Equal(50, h.Service.PendingCount(Dev));
    }

    [Fact]
    public async Task Send_UnknownDevice_Fails404001()
    {
        await using var h = await CreateAsync(null, Dev);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotFound, () => h.SendAsync("nobody", "x").AsTask());
        Assert.Equal(0, h.Service.PendingCount("nobody"));
    }

    [Fact]
    public async Task Send_BodyOf64KBIsAccepted_OneByteMoreFails413001()
    {
        await using var h = await CreateAsync(null, largePages: true, Dev);
        await h.Service.SendAsync(Dev, new CloudToDeviceRequest { Body = new byte[CloudToDeviceOptions.MaxMessageBytes] });
        await ThrowsIotHubAsync(IotHubErrorCode.MessageTooLarge,
            () => h.Service.SendAsync(Dev, new CloudToDeviceRequest { Body = new byte[CloudToDeviceOptions.MaxMessageBytes + 1] }).AsTask());
        Assert.Equal(1, h.Service.PendingCount(Dev));
        Assert.Equal(CloudToDeviceOptions.MaxMessageBytes, h.LockNext(Dev, Owner).Message.Body.Length);
    }

    [Fact]
    public async Task Send_ApplicationPropertyNamesAndValuesCountTowardsTheSize()
    {
        await using var h = await CreateAsync(null, largePages: true, Dev);
        var properties = new Dictionary<string, string?> { ["ab"] = "c" };
        await h.Service.SendAsync(Dev, new CloudToDeviceRequest { Body = new byte[CloudToDeviceOptions.MaxMessageBytes - 3], Properties = properties });
        await ThrowsIotHubAsync(IotHubErrorCode.MessageTooLarge, () => h.Service.SendAsync(Dev, new CloudToDeviceRequest
        {
            Body = new byte[CloudToDeviceOptions.MaxMessageBytes - 2],
            Properties = properties,
        }).AsTask());
    }

    [Theory]
    [InlineData("a b", "1")]
    [InlineData("path", "a/b")]
    [InlineData("k", "x=y")]
    [InlineData("temp", "\u00b0C")]
    [InlineData("", "1")]
    public async Task Send_ApplicationPropertyOutsideIotHubsCharacterSet_Fails400004(string name, string value)
    {
        await using var h = await CreateAsync(null, Dev);
        await ThrowsIotHubAsync(IotHubErrorCode.ArgumentInvalid, () => h.Service.SendAsync(Dev, new CloudToDeviceRequest
        {
            Body = "x"u8.ToArray(),
            Properties = new Dictionary<string, string?> { [name] = value },
        }).AsTask());
        Assert.Equal(0, h.Service.PendingCount(Dev));
    }

    [Fact]
    public async Task Send_PropertiesOfCharactersJsonWouldEscape_StillFitInTheStoreAtTheSizeLimit()
    {
        // 60 KB of '&' would be 360 KB with JSON's HTML escaping (\u0026), more than a state-log page.
        await using var h = await CreateAsync(null, largePages: true, Dev);
        var value = new string('&', 60 * 1024);
        await h.Service.SendAsync(Dev, new CloudToDeviceRequest
        {
            Body = new byte[1024],
            Properties = new Dictionary<string, string?> { ["amp"] = value },
        });

        Assert.Equal(value, h.LockNext(Dev, Owner).Message.Properties["amp"]);
    }

    public static TheoryData<string> SystemProperties => new() { "messageId", "correlationId", "userId", "contentType", "contentEncoding" };

    [Theory]
    [MemberData(nameof(SystemProperties))]
    public async Task Send_SystemPropertyValuesCountTowardsTheSize(string property)
    {
        // IoT Hub's size is body + system-property values + application-property names and values (spec §5).
        await using var h = await CreateAsync(null, largePages: true, Dev);
        var request = new CloudToDeviceRequest { Body = new byte[CloudToDeviceOptions.MaxMessageBytes - 4] };
        request = property switch
        {
            "messageId" => request with { MessageId = "12345" },
            "correlationId" => request with { CorrelationId = "12345" },
            "userId" => request with { UserId = "12345" },
            "contentType" => request with { ContentType = "12345" },
            _ => request with { ContentEncoding = "12345" },
        };

        await ThrowsIotHubAsync(IotHubErrorCode.MessageTooLarge, () => h.Service.SendAsync(Dev, request).AsTask());
        await h.Service.SendAsync(Dev, request with { Body = new byte[CloudToDeviceOptions.MaxMessageBytes - 5] });
        Assert.Equal(1, h.Service.PendingCount(Dev));
    }

    public static TheoryData<TimeSpan> InvalidTimesToLive => new()
    {
        TimeSpan.Zero,
        TimeSpan.FromSeconds(-1),
        TimeSpan.FromDays(2) + TimeSpan.FromTicks(1),
    };

    [Theory]
    [MemberData(nameof(InvalidTimesToLive))]
    public async Task Send_InvalidTimeToLive_Fails400004(TimeSpan ttl)
    {
        await using var h = await CreateAsync(null, Dev);
        await ThrowsIotHubAsync(IotHubErrorCode.ArgumentInvalid, () => h.SendAsync(Dev, "x", timeToLive: ttl).AsTask());
        Assert.Equal(0, h.Service.PendingCount(Dev));
    }

    [Fact]
    public async Task Send_TimeToLiveOfTwoDays_IsAccepted()
    {
        await using var h = await CreateAsync(null, Dev);
        var sent = await h.SendAsync(Dev, "x", timeToLive: TimeSpan.FromDays(2));
        Assert.Equal(TestStores.Start.AddDays(2), sent.ExpiryTime);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/")]
    [InlineData("quote\"")]
    [InlineData("caf\u00e9")]
    [InlineData("tab\t")]
    public async Task Send_InvalidMessageId_Fails400004(string messageId)
    {
        await using var h = await CreateAsync(null, Dev);
        await ThrowsIotHubAsync(IotHubErrorCode.ArgumentInvalid, () => h.SendAsync(Dev, "x", messageId).AsTask());
    }

    [Fact]
    public async Task Send_MessageIdLengthAndCharacters()
    {
        await using var h = await CreateAsync(null, Dev);
        string allowed = "aZ09-:.+%_#*?!(),=@;$'";
        await h.SendAsync(Dev, "x", allowed);
        await h.SendAsync(Dev, "x", new string('m', 128));
        await ThrowsIotHubAsync(IotHubErrorCode.ArgumentInvalid, () => h.SendAsync(Dev, "x", new string('m', 129)).AsTask());
        Assert.Equal(allowed, h.LockNext(Dev, Owner).Message.MessageId);
    }

    [Fact]
    public async Task Send_WakesTheConnectedDevice()
    {
        await using var h = await CreateAsync(null, Dev, "dev2");
        var proxy = h.Connect(Dev);
        var other = h.Connect("dev2");
        await h.SendAsync(Dev, "x");
        Assert.Equal(1, proxy.CloudToDeviceWakeUps);
        Assert.Equal(0, other.CloudToDeviceWakeUps);
    }

    [Fact]
    public async Task Lock_ExpiresAfterOneMinute_MessageVisibleAgainWithTheSameDeliveryCount_DeviceWoken()
    {
        await using var h = await CreateAsync(null, Dev);
        var proxy = h.Connect(Dev);
        await h.SendAsync(Dev, "x", "mid");
        int wakeUps = proxy.CloudToDeviceWakeUps;
        var first = h.LockNext(Dev, Owner);
        Assert.Equal(0, first.Message.DeliveryCount);

        h.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        Assert.Equal(wakeUps, proxy.CloudToDeviceWakeUps);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(wakeUps + 1, proxy.CloudToDeviceWakeUps);
        var second = h.LockNext(Dev, Owner);
        Assert.Equal("mid", second.Message.MessageId);
        Assert.Equal(0, second.Message.DeliveryCount); // lock expiry does not count as a delivery attempt
        Assert.NotEqual(first.LockToken, second.LockToken);

        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, first.LockToken).AsTask());
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.AbandonAsync(Dev, first.LockToken).AsTask());
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.RejectAsync(Dev, first.LockToken).AsTask());
        Assert.Equal(1, h.Service.PendingCount(Dev));

        await h.Service.CompleteAsync(Dev, second.LockToken);
        Assert.Equal(0, h.Service.PendingCount(Dev));
    }

    [Fact]
    public async Task Lock_ExpiresRepeatedly_DeliveryCountNeverRises()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { MaxDeliveryCount = 2 }, Dev);
        await h.SendAsync(Dev, "x", timeToLive: TimeSpan.FromHours(1));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(0, h.LockNext(Dev, Owner).Message.DeliveryCount);
            h.Time.Advance(CloudToDeviceOptions.LockDuration);
        }

        Assert.Equal(1, h.Service.PendingCount(Dev));
    }

    [Fact]
    public async Task Abandon_RedeliversWithDeliveryCountPlusOne_DeadLettersAtMaxDeliveryCount()
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { MaxDeliveryCount = 3 }, Dev);
        var proxy = h.Connect(Dev);
        await h.SendAsync(Dev, "x", "mid", FeedbackMode.Negative);

        for (int expected = 0; expected < 2; expected++)
        {
            var delivery = h.LockNext(Dev, Owner);
            Assert.Equal(expected, delivery.Message.DeliveryCount);
            int wakeUps = proxy.CloudToDeviceWakeUps;
            await h.Service.AbandonAsync(Dev, delivery.LockToken);
            Assert.Equal(wakeUps + 1, proxy.CloudToDeviceWakeUps);
            Assert.Equal(1, h.Service.PendingCount(Dev));
            Assert.Equal(0, h.Feedback.Count);
            await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.AbandonAsync(Dev, delivery.LockToken).AsTask());
        }

        var last = h.LockNext(Dev, Owner);
        Assert.Equal(2, last.Message.DeliveryCount);
        await h.Service.AbandonAsync(Dev, last.LockToken);

        Assert.Equal(0, h.Service.PendingCount(Dev));
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        var record = await ReceiveAfterDelayAsync(h);
        Assert.Equal(FeedbackStatus.DeliveryCountExceeded, record.StatusCode);
        Assert.Equal("mid", record.OriginalMessageId);
    }

    [Theory]
    [InlineData(FeedbackMode.None, false)]
    [InlineData(FeedbackMode.Positive, false)]
    [InlineData(FeedbackMode.Negative, true)]
    [InlineData(FeedbackMode.Full, true)]
    public async Task Abandon_DeadLetter_FeedbackOnlyForNegativeOrFull(FeedbackMode ack, bool feedback)
    {
        await using var h = await CreateAsync(new CloudToDeviceOptions { MaxDeliveryCount = 1 }, Dev);
        await h.SendAsync(Dev, "x", "mid", ack);
        await h.Service.AbandonAsync(Dev, h.LockNext(Dev, Owner).LockToken);
        Assert.Equal(0, h.Service.PendingCount(Dev));
        Assert.Equal(feedback ? 1 : 0, h.Feedback.Count);
    }

    [Theory]
    [InlineData(FeedbackMode.None, false)]
    [InlineData(FeedbackMode.Positive, false)]
    [InlineData(FeedbackMode.Negative, true)]
    [InlineData(FeedbackMode.Full, true)]
    public async Task Reject_DeadLetters_WithRejectedFeedbackForNegativeOrFull(FeedbackMode ack, bool feedback)
    {
        await using var h = await CreateAsync(null, Dev);
        await h.SendAsync(Dev, "x", "mid", ack);
        var delivery = h.LockNext(Dev, Owner);
        await h.Service.RejectAsync(Dev, delivery.LockToken);

        Assert.Equal(0, h.Service.PendingCount(Dev));
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        Assert.Equal(feedback ? 1 : 0, h.Feedback.Count);
        if (feedback)
        {
            var record = await ReceiveAfterDelayAsync(h);
            Assert.Equal(FeedbackStatus.Rejected, record.StatusCode);
            Assert.Equal("Message Rejected", record.Description);
        }
    }

    [Theory]
    [InlineData(FeedbackMode.None, false)]
    [InlineData(FeedbackMode.Positive, false)]
    [InlineData(FeedbackMode.Negative, true)]
    [InlineData(FeedbackMode.Full, true)]
    public async Task Expiry_DeadLettersWithoutDelivery_ExpiredFeedbackForNegativeOrFull(FeedbackMode ack, bool feedback)
    {
        await using var h = await CreateAsync(null, Dev);
        await h.SendAsync(Dev, "x", "mid", ack, TimeSpan.FromMinutes(2));
        await h.SendAsync(Dev, "y", "later", FeedbackMode.None, TimeSpan.FromMinutes(10));

        h.Time.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromTicks(1));
        Assert.Equal(2, h.Service.PendingCount(Dev));
        h.Time.Advance(TimeSpan.FromTicks(1));

        // swept by the deadline timer, without anyone asking for a message
        Assert.Equal(1, h.Service.PendingCount(Dev));
        Assert.Equal(feedback ? 1 : 0, h.Feedback.Count);
        Assert.Equal("later", h.LockNext(Dev, Owner).Message.MessageId);
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        if (feedback)
        {
            var record = await ReceiveAfterDelayAsync(h);
            Assert.Equal(FeedbackStatus.Expired, record.StatusCode);
            Assert.Equal("mid", record.OriginalMessageId);
            Assert.Equal(TestStores.Start.AddMinutes(2), record.EnqueuedTimeUtc);
        }
    }

    [Fact]
    public async Task Expiry_WhileLocked_DeviceMayStillComplete()
    {
        await using var h = await CreateAsync(null, Dev);
        await h.SendAsync(Dev, "x", "mid", FeedbackMode.Full, TimeSpan.FromSeconds(30));
        var delivery = h.LockNext(Dev, Owner);
        h.Time.Advance(TimeSpan.FromSeconds(45));
        await h.Service.CompleteAsync(Dev, delivery.LockToken);
        var record = await ReceiveAfterDelayAsync(h);
        Assert.Equal(FeedbackStatus.Success, record.StatusCode);
    }

    [Fact]
    public async Task Expiry_WhileLocked_LockRunsOut_DeadLetteredNotRedelivered()
    {
        await using var h = await CreateAsync(null, Dev);
        var proxy = h.Connect(Dev);
        await h.SendAsync(Dev, "x", "mid", FeedbackMode.Negative, TimeSpan.FromSeconds(30));
        _ = h.LockNext(Dev, Owner);
        h.Time.Advance(CloudToDeviceOptions.LockDuration);

        Assert.Equal(0, h.Service.PendingCount(Dev));
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        var record = await ReceiveAfterDelayAsync(h);
        Assert.Equal(FeedbackStatus.Expired, record.StatusCode);
    }

    [Fact]
    public async Task Purge_ReturnsTheCount_PurgedFeedbackForNegativeOrFull_QueueEmpty()
    {
        await using var h = await CreateAsync(null, Dev, "dev2");
        await h.SendAsync(Dev, "a", "none", FeedbackMode.None);
        await h.SendAsync(Dev, "b", "positive", FeedbackMode.Positive);
        await h.SendAsync(Dev, "c", "negative", FeedbackMode.Negative);
        await h.SendAsync(Dev, "d", "full", FeedbackMode.Full);
        await h.SendAsync("dev2", "e", "other", FeedbackMode.Full);
        var locked = h.LockNext(Dev, Owner);

        Assert.Equal(4, await h.Service.PurgeAsync(Dev));

        Assert.Equal(0, h.Service.PendingCount(Dev));
        Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
        Assert.Equal(1, h.Service.PendingCount("dev2"));
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, locked.LockToken).AsTask());
        Assert.Equal(2, h.Feedback.Count);
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var batch = await h.Feedback.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["negative", "full"], batch.Records.Select(record => record.OriginalMessageId));
        Assert.All(batch.Records, record => Assert.Equal(FeedbackStatus.Purged, record.StatusCode));

        Assert.Equal(0, await h.Service.PurgeAsync(Dev));
    }

    [Fact]
    public async Task Purge_UnknownDevice_Fails404001_NeverSentDevice_Zero()
    {
        await using var h = await CreateAsync(null, Dev);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotFound, () => h.Service.PurgeAsync("nobody").AsTask());
        Assert.Equal(0, await h.Service.PurgeAsync(Dev));
    }

    [Fact]
    public async Task Reopen_QueuedMessagesAndDeliveryCountsSurvive_InOrder()
    {
        var h = await CreateAsync(new CloudToDeviceOptions { MaxDeliveryCount = 5 }, Dev, "dev2");
        await using (h)
        {
            await h.SendAsync(Dev, "one", "m1", FeedbackMode.Full);
            await h.SendAsync(Dev, "two", "m2");
            await h.SendAsync(Dev, "three", "m3");
            await h.SendAsync("dev2", "other", "o1");
            await h.Service.AbandonAsync(Dev, h.LockNext(Dev, Owner).LockToken);
            await h.Service.AbandonAsync(Dev, h.LockNext(Dev, Owner).LockToken);
            await h.Service.CompleteAsync(Dev, h.LockNext(Dev, Owner).LockToken); // m1 completes: Success feedback
            var lockedAtClose = h.LockNext(Dev, Owner); // m2 locked when the store closes

            await h.ReopenAsync();

            Assert.Equal(2, h.Service.PendingCount(Dev));
            Assert.Equal(1, h.Service.PendingCount("dev2"));
            Assert.Equal(1, h.Feedback.Count);
            await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, lockedAtClose.LockToken).AsTask());

            await h.SendAsync(Dev, "four", "m4");
            var m2 = h.LockNext(Dev, Owner);
            Assert.Equal("m2", m2.Message.MessageId); // its lock did not survive the restart
            Assert.Equal("two", Encoding.UTF8.GetString(m2.Message.Body));
            await h.Service.AbandonAsync(Dev, m2.LockToken);

            await h.ReopenAsync();

            var again = h.LockNext(Dev, Owner);
            Assert.Equal("m2", again.Message.MessageId);
            Assert.Equal(1, again.Message.DeliveryCount);
            var m3 = h.LockNext(Dev, Owner);
            Assert.Equal("m3", m3.Message.MessageId);
            Assert.Equal(0, m3.Message.DeliveryCount);
            var m4 = h.LockNext(Dev, Owner);
            Assert.Equal("m4", m4.Message.MessageId);
            Assert.True(m3.Message.SequenceNumber < m4.Message.SequenceNumber);
            Assert.Equal("o1", h.LockNext("dev2", Owner).Message.MessageId);
        }
    }

    [Fact]
    public async Task Reopen_DeliveryCountAfterAbandonsSurvives_AndStillDeadLettersAtMax()
    {
        var h = await CreateAsync(new CloudToDeviceOptions { MaxDeliveryCount = 3 }, Dev);
        await using (h)
        {
            await h.SendAsync(Dev, "x", "mid", FeedbackMode.Negative);
            await h.Service.AbandonAsync(Dev, h.LockNext(Dev, Owner).LockToken);
            await h.Service.AbandonAsync(Dev, h.LockNext(Dev, Owner).LockToken);

            await h.ReopenAsync();

            var delivery = h.LockNext(Dev, Owner);
            Assert.Equal(2, delivery.Message.DeliveryCount);
            await h.Service.AbandonAsync(Dev, delivery.LockToken);
            Assert.Equal(0, h.Service.PendingCount(Dev));
            Assert.Equal(1, h.Feedback.Count);
        }
    }

    [Fact]
    public async Task Reopen_ExpiryIsStillEnforced()
    {
        var h = await CreateAsync(null, Dev);
        await using (h)
        {
            await h.SendAsync(Dev, "x", "mid", FeedbackMode.Negative, TimeSpan.FromMinutes(5));
            await h.ReopenAsync();

            h.Time.Advance(TimeSpan.FromMinutes(5));
            Assert.Equal(0, h.Service.PendingCount(Dev));
            Assert.Equal(1, h.Feedback.Count);
        }
    }

    [Fact]
    public async Task Reopen_MessagesThatExpiredWhileClosedAreDeadLetteredAtStart()
    {
        var h = await CreateAsync(null, Dev);
        await using (h)
        {
            await h.SendAsync(Dev, "x", "gone", FeedbackMode.Negative, TimeSpan.FromMinutes(5));
            await h.SendAsync(Dev, "y", "kept", FeedbackMode.Negative, TimeSpan.FromMinutes(30));
            await h.ReopenAsync(() => h.Time.Advance(TimeSpan.FromMinutes(10)));

            Assert.Equal(1, h.Service.PendingCount(Dev));
            Assert.Equal(1, h.Feedback.Count);
            Assert.Equal("kept", h.LockNext(Dev, Owner).Message.MessageId);
        }
    }

    [Fact]
    public async Task DeleteDevice_DropsItsQueueWithoutFeedback()
    {
        var h = await CreateAsync(null, Dev, "dev2");
        await using (h)
        {
            await h.SendAsync(Dev, "a", "m1", FeedbackMode.Full);
            await h.SendAsync(Dev, "b", "m2", FeedbackMode.Full);
            await h.SendAsync("dev2", "c", "o1", FeedbackMode.Full);
            var locked = h.LockNext(Dev, Owner);

            await h.Identities.DeleteDeviceAsync(Dev);

            Assert.Equal(0, h.Service.PendingCount(Dev));
            Assert.Equal(0, h.Feedback.Count);
            Assert.Equal(1, h.Service.PendingCount("dev2"));
            await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, locked.LockToken).AsTask());
            await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotFound, () => h.SendAsync(Dev, "x").AsTask());

            // a new device of the same id starts with an empty queue, also after a restart
            await h.Identities.CreateDeviceAsync(new Registry.Device { DeviceId = Dev });
            Assert.Equal(0, h.Service.PendingCount(Dev));
            Assert.False(h.Service.TryLockNext(Dev, Owner, out _));
            await h.ReopenAsync();
            Assert.Equal(0, h.Service.PendingCount(Dev));
            Assert.Equal(1, h.Service.PendingCount("dev2"));
            Assert.Equal(0, h.Feedback.Count);

            // nothing fires later for the dropped messages
            h.Time.Advance(TimeSpan.FromHours(2));
            h.Time.Advance(h.Options.FeedbackBatchDelay);
            var batch = await h.Feedback.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            var record = Assert.Single(batch.Records); // only dev2's message expired
            Assert.Equal("o1", record.OriginalMessageId);
            Assert.Equal(FeedbackStatus.Expired, record.StatusCode);
        }
    }

    [Fact]
    public async Task ReleaseLocks_ReturnsOnlyThatOwnersLocks_WithoutRaisingDeliveryCounts()
    {
        await using var h = await CreateAsync(null, Dev);
        var proxy = h.Connect(Dev);
        object connectionA = new();
        object connectionB = new();
        await h.SendAsync(Dev, "a", "m1");
        await h.SendAsync(Dev, "b", "m2");
        await h.SendAsync(Dev, "c", "m3");
        var a1 = h.LockNext(Dev, connectionA);
        var b = h.LockNext(Dev, connectionB);
        var a2 = h.LockNext(Dev, connectionA);
        int wakeUps = proxy.CloudToDeviceWakeUps;

        h.Service.ReleaseLocks(Dev, connectionA);

        Assert.Equal(wakeUps + 1, proxy.CloudToDeviceWakeUps);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, a1.LockToken).AsTask());
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, a2.LockToken).AsTask());
        var again1 = h.LockNext(Dev, connectionB);
        var again2 = h.LockNext(Dev, connectionB);
        Assert.Equal("m1", again1.Message.MessageId);
        Assert.Equal("m3", again2.Message.MessageId);
        Assert.Equal(0, again1.Message.DeliveryCount);
        Assert.Equal(0, again2.Message.DeliveryCount);
        Assert.False(h.Service.TryLockNext(Dev, connectionB, out _));
        await h.Service.CompleteAsync(Dev, b.LockToken); // B's own lock was untouched

        // releasing an owner with no locks wakes nobody
        wakeUps = proxy.CloudToDeviceWakeUps;
        h.Service.ReleaseLocks(Dev, connectionA);
        Assert.Equal(wakeUps, proxy.CloudToDeviceWakeUps);
        Assert.Equal(2, h.Service.PendingCount(Dev));
    }

    [Fact]
    public async Task Release_ReturnsOneLockedMessage()
    {
        await using var h = await CreateAsync(null, Dev);
        await h.SendAsync(Dev, "a", "m1");
        await h.SendAsync(Dev, "b", "m2");
        var first = h.LockNext(Dev, Owner);
        var second = h.LockNext(Dev, Owner);

        h.Service.Release(Dev, first.LockToken);

        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, first.LockToken).AsTask());
        var again = h.LockNext(Dev, Owner);
        Assert.Equal("m1", again.Message.MessageId);
        Assert.Equal(0, again.Message.DeliveryCount);
        await h.Service.CompleteAsync(Dev, second.LockToken);
    }

    [Fact]
    public async Task Settle_UnknownLockToken_Fails412002()
    {
        await using var h = await CreateAsync(null, Dev);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, Guid.NewGuid()).AsTask());
        await h.SendAsync(Dev, "x");
        _ = h.LockNext(Dev, Owner);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync(Dev, Guid.NewGuid()).AsTask());
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceMessageLockLost, () => h.Service.CompleteAsync("dev2", Guid.NewGuid()).AsTask());
        Assert.Equal(1, h.Service.PendingCount(Dev));
    }

    // Lets the feedback batch delay pass and receives the one record waiting.
    private static async Task<FeedbackRecord> ReceiveAfterDelayAsync(CloudToDeviceHarness h)
    {
        h.Time.Advance(h.Options.FeedbackBatchDelay);
        var batch = await h.Feedback.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return Assert.Single(batch.Records);
    }
}
