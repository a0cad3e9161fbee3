using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Registry;
using Broker.Core.Storage;

namespace Broker.Core.CloudToDevice;

/// <summary>
/// The cloud-to-device queues: one durable queue per device in the device's partition (at most 50 pending),
/// with IoT Hub's life cycle — Enqueued → Invisible (locked for one minute by a delivery) → Completed, or
/// dead-lettered (rejected, expired, abandoned <see cref="CloudToDeviceOptions.MaxDeliveryCount"/> times,
/// purged), or back to Enqueued (abandon, lock expiry, connection loss). Only an abandon raises the delivery
/// count. Outcomes the sender asked for (<c>iothub-ack</c>) become records in the <see cref="FeedbackQueue"/>.
/// </summary>
/// <remarks>
/// Messages live in the state store (<see cref="StateRecordKind.CloudToDeviceMessage"/>, key = device id, 0, big-endian
/// sequence); memory holds only each message's envelope (no body), loaded at start. Every change is written
/// before the call that caused it returns and awaited to durability before the caller is answered.
/// </remarks>
public sealed class CloudToDeviceService : IDisposable
{
    // Stored JSON keeps the allowed property characters (& ' + `) as they are instead of escaping each to six
    // bytes, so a message within IoT Hub's 64 KB always fits in one state-log record.
    private static readonly CloudToDeviceJsonContext StorageJson = new(new JsonSerializerOptions(CloudToDeviceJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private readonly IHubStore _store;
    private readonly IdentityRegistry _identities;
    private readonly ConnectionRegistry _connections;
    private readonly FeedbackQueue _feedback;
    private readonly CloudToDeviceOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DeviceQueue> _queues = new(StringComparer.Ordinal);
    private readonly DeadlineScheduler _deadlines;

    /// <summary>Loads every queue from <paramref name="store"/>.</summary>
    public CloudToDeviceService(IHubStore store, IdentityRegistry identities, ConnectionRegistry connections, FeedbackQueue feedback,
        CloudToDeviceOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(identities);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _identities = identities;
        _connections = connections;
        _feedback = feedback;
        _options = options;
        _time = time ?? TimeProvider.System;
        _deadlines = new DeadlineScheduler(_time, OnDeadline);
        for (int i = 0; i < store.PartitionCount; i++)
        {
            var loader = new Loader(this);
            store.GetPartition(i).State.Scan(StateRecordKind.CloudToDeviceMessage, default, loader);
        }

        foreach (var (deviceId, queue) in _queues)
        {
            lock (queue)
            {
                queue.Entries.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
                queue.NextSequence = queue.Entries.Count == 0 ? 1 : queue.Entries[^1].Sequence + 1;
                ScheduleNext(deviceId, queue);
            }
        }

        identities.IdentityChanged += change =>
        {
            if (change.Kind == IdentityChangeKind.Deleted && change.ModuleId is null)
            {
                Forget(change.DeviceId);
            }
        };
    }

    /// <summary>Messages pending for a device (enqueued or locked): the twin's <c>cloudToDeviceMessageCount</c>.</summary>
    public int PendingCount(string deviceId)
    {
        if (!_queues.TryGetValue(deviceId, out var queue))
        {
            return 0;
        }

        lock (queue)
        {
            return queue.Entries.Count;
        }
    }

    /// <summary>Queues a message for a device; returns once it is durable. 404001, 403004 (50 pending), 413001, 400004.</summary>
    public async ValueTask<StoredCloudToDeviceMessage> SendAsync(string deviceId, CloudToDeviceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(request);
        var device = _identities.TryGetDevice(deviceId) ?? throw IotHubErrors.DeviceNotFound(deviceId);
        Validate(request);
        var now = _time.GetUtcNow();
        var ttl = request.TimeToLive ?? _options.DefaultTimeToLive;
        var partition = _store.GetPartitionFor(deviceId);
        var queue = _queues.GetOrAdd(deviceId, static _ => new DeviceQueue());
        StoredCloudToDeviceMessage message;
        long address;
        lock (queue)
        {
            if (queue.Entries.Count >= CloudToDeviceOptions.MaxQueueDepth)
            {
                throw new IotHubException(IotHubErrorCode.DeviceMaximumQueueDepthExceeded,
                    $"Device {deviceId} already has {CloudToDeviceOptions.MaxQueueDepth} messages pending; the queue is full.");
            }

            message = new StoredCloudToDeviceMessage
            {
                DeviceId = deviceId,
                SequenceNumber = queue.NextSequence++,
                MessageId = request.MessageId,
                CorrelationId = request.CorrelationId,
                UserId = request.UserId,
                ContentType = request.ContentType,
                ContentEncoding = request.ContentEncoding,
                Ack = request.Ack,
                EnqueuedTime = now,
                ExpiryTime = now + ttl,
                DeviceGenerationId = device.GenerationId,
                Properties = new Dictionary<string, string?>(request.Properties, StringComparer.Ordinal),
                Body = request.Body.ToArray(),
            };
            try
            {
                address = Write(partition.State, message);
            }
            catch (ArgumentException ex)
            {
                // The store refuses a record larger than its log page (the message is not stored).
                throw new IotHubException(IotHubErrorCode.MessageTooLarge, $"The message is too large to store: {ex.Message}", ex);
            }

            queue.Entries.Add(new Entry(message));
            _deadlines.Schedule(deviceId, message.ExpiryTime);
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        WakeDevice(deviceId);
        return message;
    }

    /// <summary>
    /// Locks the oldest message that is neither locked nor expired for <paramref name="owner"/> (a connection) and
    /// reads it; false when there is none.
    /// </summary>
    public bool TryLockNext(string deviceId, object owner, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CloudToDeviceDelivery? delivery)
    {
        ArgumentNullException.ThrowIfNull(owner);
        delivery = null;
        if (!_queues.TryGetValue(deviceId, out var queue))
        {
            return false;
        }

        var now = _time.GetUtcNow();
        var state = _store.GetPartitionFor(deviceId).State;
        lock (queue)
        {
            DeadLetterExpired(queue, state, now);
            foreach (var entry in queue.Entries)
            {
                if (entry.LockedUntil > now)
                {
                    continue;
                }

                var message = Read(state, deviceId, entry.Sequence);
                if (message is null)
                {
                    continue;
                }

                entry.Lock(Guid.NewGuid());
                entry.LockedUntil = now + CloudToDeviceOptions.LockDuration;
                entry.Owner = owner;
                _deadlines.Schedule(deviceId, entry.LockedUntil);
                delivery = new CloudToDeviceDelivery(message, entry.LockToken);
                return true;
            }
        }

        return false;
    }

    /// <summary>The device completed a delivery: the message is deleted (feedback Success). 412002 when the lock is lost.</summary>
    public ValueTask CompleteAsync(string deviceId, Guid lockToken, CancellationToken cancellationToken = default)
        => SettleAsync(deviceId, lockToken, FeedbackStatus.Success, cancellationToken);

    /// <summary>The device rejected a delivery: the message is dead-lettered (feedback Rejected). 412002 when the lock is lost.</summary>
    public ValueTask RejectAsync(string deviceId, Guid lockToken, CancellationToken cancellationToken = default)
        => SettleAsync(deviceId, lockToken, FeedbackStatus.Rejected, cancellationToken);

    /// <summary>
    /// The device abandoned a delivery: its delivery count rises and it returns to the queue, or is dead-lettered
    /// (feedback DeliveryCountExceeded) once the count reaches the hub's max delivery count. 412002 when the lock is lost.
    /// </summary>
    public async ValueTask AbandonAsync(string deviceId, Guid lockToken, CancellationToken cancellationToken = default)
    {
        var (queue, state) = QueueOf(deviceId, lockToken);
        long address;
        long feedbackAddress = 0;
        lock (queue)
        {
            var entry = FindLocked(queue, deviceId, lockToken);
            var message = Read(state, deviceId, entry.Sequence) ?? throw LockLost(deviceId, lockToken);
            int deliveryCount = message.DeliveryCount + 1;
            if (deliveryCount >= _options.MaxDeliveryCount)
            {
                (address, feedbackAddress) = Remove(queue, entry, state, FeedbackStatus.DeliveryCountExceeded);
            }
            else
            {
                address = Write(state, message with { DeliveryCount = deliveryCount });
                entry.DeliveryCount = deliveryCount;
                entry.Unlock();
            }
        }

        await WaitDurableAsync(state, address, feedbackAddress, cancellationToken).ConfigureAwait(false);
        WakeDevice(deviceId);
    }

    /// <summary>
    /// Returns one locked message to the queue without raising its delivery count (it could not be sent). The device
    /// is not woken: the caller is the connection that just failed to take it, and will ask again when it can.
    /// </summary>
    public void Release(string deviceId, Guid lockToken)
    {
        if (!_queues.TryGetValue(deviceId, out var queue))
        {
            return;
        }

        lock (queue)
        {
            foreach (var entry in queue.Entries)
            {
                if (entry.LockToken == lockToken)
                {
                    entry.Unlock();
                    return;
                }
            }
        }
    }

    /// <summary>Returns every lock <paramref name="owner"/> holds to the queue without raising delivery counts (the connection is gone).</summary>
    public void ReleaseLocks(string deviceId, object owner)
    {
        if (!_queues.TryGetValue(deviceId, out var queue))
        {
            return;
        }

        bool released = false;
        lock (queue)
        {
            foreach (var entry in queue.Entries)
            {
                if (ReferenceEquals(entry.Owner, owner))
                {
                    entry.Unlock();
                    released = true;
                }
            }
        }

        if (released)
        {
            WakeDevice(deviceId);
        }
    }

    /// <summary>Deletes every pending message of a device (feedback Purged where asked) and returns how many.</summary>
    public async ValueTask<int> PurgeAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        _ = _identities.TryGetDevice(deviceId) ?? throw IotHubErrors.DeviceNotFound(deviceId);
        if (!_queues.TryGetValue(deviceId, out var queue))
        {
            return 0;
        }

        var state = _store.GetPartitionFor(deviceId).State;
        long address = 0;
        long feedbackAddress = 0;
        int purged;
        lock (queue)
        {
            purged = queue.Entries.Count;
            while (queue.Entries.Count > 0)
            {
                var (a, f) = Remove(queue, queue.Entries[0], state, FeedbackStatus.Purged);
                address = Math.Max(address, a);
                feedbackAddress = Math.Max(feedbackAddress, f);
            }
        }

        await WaitDurableAsync(state, address, feedbackAddress, cancellationToken).ConfigureAwait(false);
        return purged;
    }

    /// <summary>Stops the deadline timer.</summary>
    public void Dispose() => _deadlines.Dispose();

    private async ValueTask SettleAsync(string deviceId, Guid lockToken, FeedbackStatus outcome, CancellationToken cancellationToken)
    {
        var (queue, state) = QueueOf(deviceId, lockToken);
        long address;
        long feedbackAddress;
        lock (queue)
        {
            var entry = FindLocked(queue, deviceId, lockToken);
            (address, feedbackAddress) = Remove(queue, entry, state, outcome);
        }

        await WaitDurableAsync(state, address, feedbackAddress, cancellationToken).ConfigureAwait(false);
    }

    private (DeviceQueue Queue, IStateStore State) QueueOf(string deviceId, Guid lockToken)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        return _queues.TryGetValue(deviceId, out var queue)
            ? (queue, _store.GetPartitionFor(deviceId).State)
            : throw LockLost(deviceId, lockToken);
    }

    private Entry FindLocked(DeviceQueue queue, string deviceId, Guid lockToken)
    {
        var now = _time.GetUtcNow();
        foreach (var entry in queue.Entries)
        {
            if (entry.LockToken == lockToken && entry.LockedUntil > now)
            {
                return entry;
            }
        }

        throw LockLost(deviceId, lockToken);
    }

    // Deletes the message and writes the feedback its sender asked for; returns both redo addresses (0 = none).
    private (long Address, long FeedbackAddress) Remove(DeviceQueue queue, Entry entry, IStateStore state, FeedbackStatus outcome)
    {
        queue.Entries.Remove(entry);
        long address = state.Delete(StateRecordKind.CloudToDeviceMessage, KeyOf(entry.DeviceId, entry.Sequence));
        bool wanted = outcome == FeedbackStatus.Success
            ? entry.Ack is FeedbackMode.Positive or FeedbackMode.Full
            : entry.Ack is FeedbackMode.Negative or FeedbackMode.Full;
        if (!wanted)
        {
            return (address, 0);
        }

        long feedbackAddress = _feedback.Add(new FeedbackRecord
        {
            OriginalMessageId = entry.MessageId,
            EnqueuedTimeUtc = _time.GetUtcNow(),
            StatusCode = outcome,
            Description = DescriptionOf(outcome),
            DeviceId = entry.DeviceId,
            DeviceGenerationId = entry.GenerationId,
        });
        return (address, feedbackAddress);
    }

    private async ValueTask WaitDurableAsync(IStateStore state, long address, long feedbackAddress, CancellationToken cancellationToken)
    {
        await state.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        if (feedbackAddress > 0)
        {
            await _store.GetPartition(0).State.WaitDurableAsync(feedbackAddress, cancellationToken).ConfigureAwait(false);
        }
    }

    private void DeadLetterExpired(DeviceQueue queue, IStateStore state, DateTimeOffset now)
    {
        for (int i = queue.Entries.Count - 1; i >= 0; i--)
        {
            var entry = queue.Entries[i];
            // A locked message is settled or released first: the device may still complete it within its lock.
            if (entry.ExpiryTime <= now && entry.LockedUntil <= now)
            {
                Remove(queue, entry, state, FeedbackStatus.Expired);
            }
        }
    }

    // A lock ran out or a message expired: sweep that queue, then tell the device what became visible.
    private void OnDeadline(string deviceId)
    {
        if (!_queues.TryGetValue(deviceId, out var queue))
        {
            return;
        }

        var now = _time.GetUtcNow();
        bool visible = false;
        lock (queue)
        {
            DeadLetterExpired(queue, _store.GetPartitionFor(deviceId).State, now);
            foreach (var entry in queue.Entries)
            {
                if (entry.Owner is not null && entry.LockedUntil <= now)
                {
                    entry.Unlock(); // lock expiry: back to the queue, delivery count unchanged
                    visible = true;
                }
            }

            ScheduleNext(deviceId, queue);
        }

        if (visible)
        {
            WakeDevice(deviceId);
        }
    }

    private void ScheduleNext(string deviceId, DeviceQueue queue)
    {
        var next = DateTimeOffset.MaxValue;
        foreach (var entry in queue.Entries)
        {
            // A locked message can only change when its lock runs out; an unlocked one when it expires.
            var deadline = entry.Owner is not null ? entry.LockedUntil : entry.ExpiryTime;

            if (deadline < next)
            {
                next = deadline;
            }
        }

        if (next != DateTimeOffset.MaxValue)
        {
            _deadlines.Schedule(deviceId, next);
        }
    }

    private void WakeDevice(string deviceId)
    {
        if (_connections.TryGet(deviceId, null, out var proxy))
        {
            proxy.CloudToDeviceAvailable();
        }
    }

    private void Forget(string deviceId)
    {
        if (!_queues.TryRemove(deviceId, out var queue))
        {
            return;
        }

        // Messages of a deleted device are dropped without feedback, as IoT Hub drops them.
        var state = _store.GetPartitionFor(deviceId).State;
        lock (queue)
        {
            foreach (var entry in queue.Entries)
            {
                state.Delete(StateRecordKind.CloudToDeviceMessage, KeyOf(deviceId, entry.Sequence));
            }

            queue.Entries.Clear();
        }
    }

    private static void Validate(CloudToDeviceRequest request)
    {
        // IoT Hub's size: body, system-property values, application-property names and values.
        long size = request.Body.Length;
        foreach (var value in (ReadOnlySpan<string?>)[request.MessageId, request.CorrelationId, request.UserId, request.ContentType, request.ContentEncoding])
        {
            size += value is null ? 0 : Encoding.UTF8.GetByteCount(value);
        }

        foreach (var (name, value) in request.Properties)
        {
            size += Encoding.UTF8.GetByteCount(name) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));
        }

        if (size > CloudToDeviceOptions.MaxMessageBytes)
        {
            throw new IotHubException(IotHubErrorCode.MessageTooLarge,
                $"The message is {size} bytes (body and properties); a cloud-to-device message may have at most {CloudToDeviceOptions.MaxMessageBytes}.");
        }

        if (request.TimeToLive is { } ttl && (ttl <= TimeSpan.Zero || ttl > CloudToDeviceOptions.MaxTimeToLive))
        {
            throw IotHubErrors.ArgumentInvalid($"The time to live {ttl} is outside (0, 2 days].");
        }

        foreach (var (name, value) in request.Properties)
        {
            if (!IsValidPropertyText(name) || (value is not null && !IsValidPropertyText(value)))
            {
                throw IotHubErrors.ArgumentInvalid(
                    $"Application property '{name}' is not allowed: names and values are ASCII letters, digits and ! # $ % & ' * + - . ^ _ ` | ~.");
            }
        }

        if (request.MessageId is { } messageId && !IsValidMessageId(messageId))
        {
            throw IotHubErrors.ArgumentInvalid("A message id has at most 128 characters: letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '.");
        }
    }

    // IoT Hub's character set for cloud-to-device property names and values.
    private static bool IsValidPropertyText(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && "!#$%&'*+-.^_`|~".IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidMessageId(string id)
    {
        if (id.Length is 0 or > 128)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && "-:.+%_#*?!(),=@;$'".IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private static string DescriptionOf(FeedbackStatus status) => status switch
    {
        FeedbackStatus.Success => "Success",
        FeedbackStatus.Expired => "Message Expired",
        FeedbackStatus.DeliveryCountExceeded => "Message Delivery Count Exceeded",
        FeedbackStatus.Rejected => "Message Rejected",
        _ => "Message Purged",
    };

    private static IotHubException LockLost(string deviceId, Guid lockToken)
        => new(IotHubErrorCode.DeviceMessageLockLost,
            string.Create(CultureInfo.InvariantCulture, $"The lock {lockToken} on a message for device {deviceId} is lost: it expired or the message was already settled."));

    private static long Write(IStateStore state, StoredCloudToDeviceMessage message)
        => state.Upsert(StateRecordKind.CloudToDeviceMessage, KeyOf(message.DeviceId, message.SequenceNumber),
            JsonSerializer.SerializeToUtf8Bytes(message, StorageJson.StoredCloudToDeviceMessage));

    private static StoredCloudToDeviceMessage? Read(IStateStore state, string deviceId, long sequence)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        return state.TryRead(StateRecordKind.CloudToDeviceMessage, KeyOf(deviceId, sequence), buffer)
            ? JsonSerializer.Deserialize(buffer.WrittenSpan, CloudToDeviceJsonContext.Default.StoredCloudToDeviceMessage)
            : null;
    }

    // Device id, a 0 byte (ids never contain one), then the sequence big-endian: a device's messages scan in order.
    private static byte[] KeyOf(string deviceId, long sequence)
    {
        var key = new byte[deviceId.Length + 1 + sizeof(long)];
        Encoding.ASCII.GetBytes(deviceId, key);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(deviceId.Length + 1), sequence);
        return key;
    }

    private sealed class DeviceQueue
    {
        public List<Entry> Entries { get; } = [];

        public long NextSequence { get; set; } = 1;
    }

    private sealed class Entry(StoredCloudToDeviceMessage message)
    {
        public string DeviceId { get; } = message.DeviceId;

        public long Sequence { get; } = message.SequenceNumber;

        public string? MessageId { get; } = message.MessageId;

        public string? GenerationId { get; } = message.DeviceGenerationId;

        public FeedbackMode Ack { get; } = message.Ack;

        public DateTimeOffset ExpiryTime { get; } = message.ExpiryTime;

        public int DeliveryCount { get; set; } = message.DeliveryCount;

        public Guid LockToken { get; private set; }

        public DateTimeOffset LockedUntil { get; set; } = DateTimeOffset.MinValue;

        public object? Owner { get; set; }

        public void Lock(Guid token) => LockToken = token;

        public void Unlock()
        {
            LockToken = Guid.Empty;
            LockedUntil = DateTimeOffset.MinValue;
            Owner = null;
        }
    }

    private sealed class Loader(CloudToDeviceService service) : IStateVisitor
    {
        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var message = JsonSerializer.Deserialize(value, CloudToDeviceJsonContext.Default.StoredCloudToDeviceMessage);
            if (message is not null)
            {
                service._queues.GetOrAdd(message.DeviceId, static _ => new DeviceQueue()).Entries.Add(new Entry(message));
            }

            return true;
        }
    }
}
