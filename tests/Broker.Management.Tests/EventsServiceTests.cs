using Broker.Core.Security;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Tests;

public sealed class EventsServiceTests(ManagementServer server) : IClassFixture<ManagementServer>
{
    private static string NewId(string prefix = "ev") => $"{prefix}-{Guid.NewGuid():N}";

    private EventsService.EventsServiceClient Client => server.EventsClient;

    /// <summary>A call that the test cancels when done, since a read never ends on its own.</summary>
    private static CallOptions Owned(ManagementServer server, CancellationTokenSource cancel)
        => new(new Metadata { { "authorization", server.Token("iothubowner") } }, cancellationToken: cancel.Token);

    [Fact]
    public async Task ReadEvents_FromStart_ReturnsEventsInOrderWithProperties()
    {
        var id = NewId();
        var first = await Telemetry.AppendAsync(server.Store, id,
            "%24.mid=m1&%24.cid=c1&%24.ct=application%2Fjson&%24.ce=utf-8&temp=21&alert&na%20me=v%26x", """{"t":21}""");
        var second = await Telemetry.AppendAsync(server.Store, id, "$.mid=m2", "plain");
        var third = await Telemetry.AppendAsync(server.Store, id, "", "three", moduleId: "mod1", generationId: null);

        using var cancel = new CancellationTokenSource();
        using var call = await Telemetry.StartAsync(Client, new ReadEventsRequest { Start = StartPosition.Start, DeviceId = id }, Owned(server, cancel));
        var messages = await Telemetry.TakeAsync(call.ResponseStream, 3);
        await cancel.CancelAsync();

        Assert.Equal([first.Offset, second.Offset, third.Offset], messages.Select(m => m.Offset));
        Assert.Equal([first.SequenceNumber, second.SequenceNumber, third.SequenceNumber], messages.Select(m => m.SequenceNumber));
        var partition = server.Store.GetPartitionFor(id).Index;
        Assert.All(messages, m => Assert.Equal(partition, m.Partition));

        var m1 = messages[0];
        Assert.Equal(id, m1.DeviceId);
        Assert.Equal("", m1.ModuleId);
        Assert.Equal("""{"t":21}""", m1.Body.ToStringUtf8());
        Assert.Equal("m1", m1.MessageId);
        Assert.Equal("c1", m1.CorrelationId);
        Assert.Equal("application/json", m1.ContentType);
        Assert.Equal("utf-8", m1.ContentEncoding);
        Assert.Equal(new Dictionary<string, string> { ["temp"] = "21", ["alert"] = "", ["na me"] = "v&x" }, m1.Properties);
        var enqueued = new DateTimeOffset(first.EnqueuedTicks, TimeSpan.Zero);
        Assert.Equal(enqueued, DateTimeOffset.Parse(m1.EnqueuedTime, System.Globalization.CultureInfo.InvariantCulture));
        Assert.EndsWith("Z", m1.EnqueuedTime, StringComparison.Ordinal);
        Assert.Equal(new Dictionary<string, string>
        {
            ["message-id"] = "m1",
            ["correlation-id"] = "c1",
            ["content-type"] = "application/json",
            ["content-encoding"] = "utf-8",
            ["iothub-connection-device-id"] = id,
            ["iothub-connection-auth-method"] = """{"scope":"device","type":"sas","issuer":"iothub"}""",
            ["iothub-connection-auth-generation-id"] = "638000000000000001",
            ["iothub-enqueuedtime"] = m1.EnqueuedTime,
            ["iothub-message-source"] = "Telemetry",
        }, m1.SystemProperties);

        Assert.Equal("m2", messages[1].MessageId);
        Assert.Equal("plain", messages[1].Body.ToStringUtf8());
        Assert.Empty(messages[1].Properties);

        var m3 = messages[2];
        Assert.Equal("mod1", m3.ModuleId);
        Assert.Equal("mod1", m3.SystemProperties["iothub-connection-module-id"]);
        Assert.Equal("""{"scope":"module","type":"sas","issuer":"iothub"}""", m3.SystemProperties["iothub-connection-auth-method"]);
        Assert.False(m3.SystemProperties.ContainsKey("iothub-connection-auth-generation-id"));
        Assert.Equal("", m3.MessageId);
    }

    [Fact]
    public async Task ReadEvents_DeviceCannotSpoofConnectionProperties()
    {
        var id = NewId();
        await Telemetry.AppendAsync(server.Store, id, "iothub-connection-device-id=evil&%24.x=1", "p", auth: AuthMethod.X509SelfSigned);

        using var cancel = new CancellationTokenSource();
        using var call = await Telemetry.StartAsync(Client, new ReadEventsRequest { Start = StartPosition.Start, DeviceId = id }, Owned(server, cancel));
        var message = Assert.Single(await Telemetry.TakeAsync(call.ResponseStream, 1));
        await cancel.CancelAsync();

        Assert.Equal(id, message.SystemProperties["iothub-connection-device-id"]);
        Assert.Equal("evil", message.Properties["iothub-connection-device-id"]);
        Assert.Equal("1", message.SystemProperties["$.x"]);
        Assert.Equal("""{"scope":"device","type":"x509","issuer":"iothub"}""", message.SystemProperties["iothub-connection-auth-method"]);
    }

    [Fact]
    public async Task ReadEvents_FromEnd_TailsOnlyEventsAppendedAfterwards()
    {
        var id = NewId();
        await Telemetry.AppendAsync(server.Store, id, "$.mid=before", "old");

        using var cancel = new CancellationTokenSource();
        using var call = await Telemetry.StartAsync(Client, new ReadEventsRequest { Start = StartPosition.End, DeviceId = id }, Owned(server, cancel));
        var next = call.ResponseStream.MoveNext(CancellationToken.None);
        Assert.False(next.IsCompleted);

        await Telemetry.AppendAsync(server.Store, id, "$.mid=after1", "new");
        Assert.True(await next.WaitAsync(Telemetry.Wait));
        Assert.Equal("after1", call.ResponseStream.Current.MessageId);

        // Still tailing: the next event arrives as it is appended.
        await Telemetry.AppendAsync(server.Store, id, "$.mid=after2", "newer");
        Assert.Equal("after2", Assert.Single(await Telemetry.TakeAsync(call.ResponseStream, 1)).MessageId);
        await cancel.CancelAsync();
    }

    [Fact]
    public async Task ReadEvents_DeviceFilter_SkipsOtherDevices()
    {
        var (a, b) = TwoDevicesInOnePartition();
        await Telemetry.AppendAsync(server.Store, a, "$.mid=a1", "a");
        await Telemetry.AppendAsync(server.Store, b, "$.mid=b1", "b");
        await Telemetry.AppendAsync(server.Store, a, "$.mid=a2", "a");
        await Telemetry.AppendAsync(server.Store, b, "$.mid=b2", "b");

        using var cancel = new CancellationTokenSource();
        var request = new ReadEventsRequest { Start = StartPosition.Start, DeviceId = b, Partition = server.Store.GetPartitionFor(b).Index };
        using var call = await Telemetry.StartAsync(Client, request, Owned(server, cancel));
        var messages = await Telemetry.TakeAsync(call.ResponseStream, 2);
        await cancel.CancelAsync();

        Assert.Equal(["b1", "b2"], messages.Select(m => m.MessageId));
        Assert.All(messages, m => Assert.Equal(b, m.DeviceId));
    }

    [Fact]
    public async Task ReadEvents_FromOffsetAndEnqueuedTime_StartThere()
    {
        var id = NewId();
        await Telemetry.AppendAsync(server.Store, id, "$.mid=1", "1");
        server.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await Telemetry.AppendAsync(server.Store, id, "$.mid=2", "2");
        var partition = server.Store.GetPartitionFor(id).Index;

        using var cancel = new CancellationTokenSource();
        using var byOffset = await Telemetry.StartAsync(Client,
            new ReadEventsRequest { Start = StartPosition.Offset, Offset = second.Offset, Partition = partition, DeviceId = id }, Owned(server, cancel));
        Assert.Equal("2", Assert.Single(await Telemetry.TakeAsync(byOffset.ResponseStream, 1)).MessageId);

        var time = new DateTimeOffset(second.EnqueuedTicks, TimeSpan.Zero).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        using var byTime = await Telemetry.StartAsync(Client,
            new ReadEventsRequest { Start = StartPosition.EnqueuedTime, EnqueuedTime = time, DeviceId = id }, Owned(server, cancel));
        Assert.Equal("2", Assert.Single(await Telemetry.TakeAsync(byTime.ResponseStream, 1)).MessageId);
        await cancel.CancelAsync();
    }

    [Fact]
    public async Task CommitCheckpoint_ThenReadFromCheckpoint_ResumesAfterIt()
    {
        var id = NewId();
        var group = NewId("cg");
        await Client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = group }, server.AsOwner());
        await Telemetry.AppendAsync(server.Store, id, "$.mid=1", "1");
        var second = await Telemetry.AppendAsync(server.Store, id, "$.mid=2", "2");
        await Telemetry.AppendAsync(server.Store, id, "$.mid=3", "3");
        var partition = server.Store.GetPartitionFor(id).Index;

        using var cancel = new CancellationTokenSource();
        // No checkpoint yet: from the start of the log (checkpoint is the default position).
        using (var fresh = await Telemetry.StartAsync(Client, new ReadEventsRequest { ConsumerGroup = group, DeviceId = id }, Owned(server, cancel)))
        {
            Assert.Equal("1", (await Telemetry.TakeAsync(fresh.ResponseStream, 1))[0].MessageId);
        }

        await Client.CommitCheckpointAsync(new CommitCheckpointRequest { ConsumerGroup = group, Partition = partition, Offset = second.Offset }, server.AsOwner());

        using var resumed = await Telemetry.StartAsync(Client,
            new ReadEventsRequest { ConsumerGroup = group, Start = StartPosition.Checkpoint, DeviceId = id }, Owned(server, cancel));
        Assert.Equal("3", Assert.Single(await Telemetry.TakeAsync(resumed.ResponseStream, 1)).MessageId);

        // Other groups keep their own position.
        using var other = await Telemetry.StartAsync(Client, new ReadEventsRequest { DeviceId = id }, Owned(server, cancel));
        Assert.Equal("1", (await Telemetry.TakeAsync(other.ResponseStream, 1))[0].MessageId);
        await cancel.CancelAsync();
    }

    [Fact]
    public async Task CommitCheckpoint_UnknownGroupOrPartition_ArgumentInvalid()
    {
        await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004, () => Client.CommitCheckpointAsync(
            new CommitCheckpointRequest { ConsumerGroup = "nope", Partition = 0, Offset = 0 }, server.AsOwner()).ResponseAsync);
        await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004, () => Client.CommitCheckpointAsync(
            new CommitCheckpointRequest { Partition = 99, Offset = 0 }, server.AsOwner()).ResponseAsync);
    }

    [Fact]
    public async Task ReadEvents_UnknownGroup_ArgumentInvalid()
    {
        using var call = Client.ReadEvents(new ReadEventsRequest { ConsumerGroup = "missing-group" }, server.AsOwner());
        await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004, () => call.ResponseStream.MoveNext(CancellationToken.None));
    }

    [Fact]
    public async Task ReadEvents_OffsetWithoutPartition_ArgumentInvalid()
    {
        using var call = Client.ReadEvents(new ReadEventsRequest { Start = StartPosition.Offset, Offset = 0 }, server.AsOwner());
        await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004, () => call.ResponseStream.MoveNext(CancellationToken.None));
    }

    [Fact]
    public async Task ConsumerGroups_CreateListDelete()
    {
        var name = NewId("cg");
        var created = await Client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner());
        Assert.Equal(name, created.Name);
        // Creating again is fine, like IoT Hub's PUT; names compare case-insensitively.
        Assert.Equal(name, (await Client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = name.ToUpperInvariant() }, server.AsOwner())).Name);

        var listed = await Client.ListConsumerGroupsAsync(new ListConsumerGroupsRequest(), server.AsOwner());
        Assert.Equal("$Default", listed.Names[0]);
        Assert.Single(listed.Names, name);

        await Client.DeleteConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner());
        Assert.DoesNotContain(name, (await Client.ListConsumerGroupsAsync(new ListConsumerGroupsRequest(), server.AsOwner())).Names);
        await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004,
            () => Client.DeleteConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner()).ResponseAsync);
    }

    [Fact]
    public async Task ConsumerGroups_Delete_ForgetsCheckpoints()
    {
        var name = NewId("cg");
        var id = NewId();
        await Client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner());
        var append = await Telemetry.AppendAsync(server.Store, id, "", "x");
        var events = server.Store.GetPartitionFor(id).Events;
        await Client.CommitCheckpointAsync(new CommitCheckpointRequest { ConsumerGroup = name, Partition = server.Store.GetPartitionFor(id).Index, Offset = append.Offset }, server.AsOwner());
        Assert.Equal(append.Offset, events.GetReaderPosition("consumerGroups/" + name));

        await Client.DeleteConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner());

        Assert.Null(events.GetReaderPosition("consumerGroups/" + name));
    }

    [Theory]
    [InlineData("$Default")]
    [InlineData("$default")]
    public async Task ConsumerGroups_DeleteDefault_ArgumentInvalid(string name)
        => await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004,
            () => Client.DeleteConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner()).ResponseAsync);

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("$Other")]
    [InlineData("slash/name")]
    [InlineData("x123456789x123456789x123456789x123456789x123456789x")]
    public async Task ConsumerGroups_InvalidName_ArgumentInvalid(string name)
        => await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004,
            () => Client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner()).ResponseAsync);

    [Fact]
    public async Task ConsumerGroups_FiftyCharacterName_Accepted()
    {
        var name = ("a.b_c-" + Guid.NewGuid().ToString("N"))[..38] + new string('z', 12);
        Assert.Equal(50, name.Length);
        Assert.Equal(name, (await Client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner())).Name);
        await Client.DeleteConsumerGroupAsync(new ConsumerGroupRequest { Name = name }, server.AsOwner());
    }

    [Theory]
    [InlineData("registryRead")]
    [InlineData("registryReadWrite")]
    [InlineData("device")]
    public async Task EventsService_WithoutServiceConnect_PermissionDenied(string policy)
    {
        var options = ManagementServer.As(server.Token(policy));
        using var call = Client.ReadEvents(new ReadEventsRequest { Start = StartPosition.Start }, options);
        await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002, () => call.ResponseStream.MoveNext(CancellationToken.None));
        await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002,
            () => Client.ListConsumerGroupsAsync(new ListConsumerGroupsRequest(), options).ResponseAsync);
        await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002,
            () => Client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = "x" }, options).ResponseAsync);
        await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002,
            () => Client.CommitCheckpointAsync(new CommitCheckpointRequest(), options).ResponseAsync);
    }

    [Fact]
    public async Task EventsService_NoToken_Unauthenticated()
    {
        using var call = Client.ReadEvents(new ReadEventsRequest());
        await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002, () => call.ResponseStream.MoveNext(CancellationToken.None));
    }

    [Fact]
    public async Task EventsService_ServicePolicy_CanRead()
    {
        var id = NewId();
        await Telemetry.AppendAsync(server.Store, id, "$.mid=s", "s");
        using var cancel = new CancellationTokenSource();
        var options = new CallOptions(new Metadata { { "authorization", server.Token("service") } }, cancellationToken: cancel.Token);
        using var call = await Telemetry.StartAsync(Client, new ReadEventsRequest { Start = StartPosition.Start, DeviceId = id }, options);
        Assert.Equal("s", Assert.Single(await Telemetry.TakeAsync(call.ResponseStream, 1)).MessageId);
        Assert.NotEmpty((await Client.ListConsumerGroupsAsync(new ListConsumerGroupsRequest(), options)).Names);
        await cancel.CancelAsync();
    }

    private (string A, string B) TwoDevicesInOnePartition()
    {
        var a = NewId();
        while (true)
        {
            var b = NewId();
            if (server.Store.GetPartitionFor(a).Index == server.Store.GetPartitionFor(b).Index)
            {
                return (a, b);
            }
        }
    }
}

/// <summary>The per-hub limit needs a hub of its own, since other tests add groups too.</summary>
public sealed class ConsumerGroupLimitTests(ManagementServer server) : IClassFixture<ManagementServer>
{
    [Fact]
    public async Task CreateConsumerGroup_BeyondTwenty_IotHubQuotaExceeded()
    {
        var client = server.EventsClient;
        for (int i = 1; i < 20; i++)
        {
            await client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = $"group{i:D2}" }, server.AsOwner());
        }

        Assert.Equal(20, (await client.ListConsumerGroupsAsync(new ListConsumerGroupsRequest(), server.AsOwner())).Names.Count);
        await Rpc.FailsWith(StatusCode.ResourceExhausted, "IotHubQuotaExceeded", 403002,
            () => client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = "one-too-many" }, server.AsOwner()).ResponseAsync);
        // An existing name is not a new group.
        await client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = "group01" }, server.AsOwner());

        await client.DeleteConsumerGroupAsync(new ConsumerGroupRequest { Name = "group05" }, server.AsOwner());
        await client.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = "one-too-many" }, server.AsOwner());
        var names = (await client.ListConsumerGroupsAsync(new ListConsumerGroupsRequest(), server.AsOwner())).Names;
        Assert.Equal(20, names.Count);
        Assert.Equal("$Default", names[0]);
        Assert.Contains("one-too-many", names);
    }
}
