using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Registry;
using Broker.Storage.Faster;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Core.Tests.CloudToDevice;

/// <summary>
/// A real FASTER store with a registry, a connection registry, a feedback queue and the C2D service over it.
/// The services run on <see cref="Time"/>; the store gets its own clock that tests never move, so advancing
/// the services' time never triggers store checkpoints.
/// </summary>
internal sealed class CloudToDeviceHarness : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _storeTime = new(TestStores.Start);
    private readonly bool _largePages;

    private CloudToDeviceHarness(CloudToDeviceOptions options, bool largePages)
    {
        Options = options;
        _largePages = largePages;
        Open();
    }

    public FakeTimeProvider Time { get; } = new(TestStores.Start);

    public CloudToDeviceOptions Options { get; }

    public FasterHubStore Store { get; private set; } = null!;

    public IdentityRegistry Identities { get; private set; } = null!;

    public ConnectionRegistry Connections { get; private set; } = null!;

    public FeedbackQueue Feedback { get; private set; } = null!;

    public CloudToDeviceService Service { get; private set; } = null!;

    /// <summary>A harness with the devices created.</summary>
    public static Task<CloudToDeviceHarness> CreateAsync(CloudToDeviceOptions? options = null, params string[] deviceIds)
        => CreateAsync(options, largePages: false, deviceIds);

    /// <summary>
    /// A harness with the devices created; <paramref name="largePages"/> gives the state log and store the broker's
    /// default page sizes, which a message near 64 KB needs (the small test pages hold 16 KB records).
    /// </summary>
    public static async Task<CloudToDeviceHarness> CreateAsync(CloudToDeviceOptions? options, bool largePages, params string[] deviceIds)
    {
        var harness = new CloudToDeviceHarness(options ?? new CloudToDeviceOptions(), largePages);
        foreach (var deviceId in deviceIds)
        {
            await harness.Identities.CreateDeviceAsync(new Device { DeviceId = deviceId });
        }

        return harness;
    }

    /// <summary>Registers a connection of <paramref name="deviceId"/> that records the hub's wake-ups.</summary>
    public TestDeviceProxy Connect(string deviceId)
    {
        var proxy = new TestDeviceProxy(deviceId, subscriptions: DeviceSubscriptions.CloudToDevice);
        Connections.Register(proxy);
        return proxy;
    }

    /// <summary>Closes the store and opens it again under new service instances; <paramref name="whileClosed"/> runs in between.</summary>
    public async Task ReopenAsync(Action? whileClosed = null)
    {
        Close();
        await Store.DisposeAsync();
        whileClosed?.Invoke();
        Open();
    }

    public async ValueTask DisposeAsync()
    {
        Close();
        await Store.DisposeAsync();
        _directory.Dispose();
    }

    /// <summary>Sends a message with a body of <paramref name="body"/> (UTF-8).</summary>
    public ValueTask<StoredCloudToDeviceMessage> SendAsync(string deviceId, string body, string? messageId = null,
        FeedbackMode ack = FeedbackMode.None, TimeSpan? timeToLive = null)
        => Service.SendAsync(deviceId, new CloudToDeviceRequest
        {
            Body = System.Text.Encoding.UTF8.GetBytes(body),
            MessageId = messageId,
            Ack = ack,
            TimeToLive = timeToLive,
        });

    /// <summary>Locks the next message, failing the test when there is none.</summary>
    public CloudToDeviceDelivery LockNext(string deviceId, object owner)
    {
        Assert.True(Service.TryLockNext(deviceId, owner, out var delivery), $"no message for {deviceId}");
        return delivery;
    }

    public static async Task<IotHubException> ThrowsIotHubAsync(IotHubErrorCode code, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<IotHubException>(action);
        Assert.Equal(code, error.Code);
        return error;
    }

    private void Open()
    {
        var storeOptions = TestStores.SmallOptions(_directory.Path);
        if (_largePages)
        {
            var defaults = new FasterStoreOptions();
            storeOptions.StateLog = new LogSizes { PageSizeBits = defaults.StateLog.PageSizeBits, MemorySizeBits = 20, SegmentSizeBits = 20 };
            storeOptions.StateStore = new StateStoreSizes { IndexBytes = 1 << 16, MemoryBytes = 1 << 22, PageBytes = defaults.StateStore.PageBytes, SegmentBytes = 1 << 22, CompactionThresholdBytes = 1 << 24 };
        }

        Store = TestStores.Open(storeOptions, _storeTime);
        Identities = new IdentityRegistry(Store, Time);
        Connections = new ConnectionRegistry(Identities, Time);
        Feedback = new FeedbackQueue(Store, Options, Time);
        Service = new CloudToDeviceService(Store, Identities, Connections, Feedback, Options, Time);
    }

    private void Close()
    {
        Service.Dispose();
        Feedback.Dispose();
    }
}
