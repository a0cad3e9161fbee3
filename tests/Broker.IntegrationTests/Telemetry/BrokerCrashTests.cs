using Broker.IntegrationTests.Support;
using System.Globalization;
using Broker.Core.Security;
using Broker.Host.Tests.Support;
using Broker.Management.V1;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Telemetry;

/// <summary>
/// Issue #5: a PUBACK means the message survives a crash. The real broker process is SIGKILLed at a random moment
/// while devices publish; after a restart on the same data directory every acknowledged message is readable.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class BrokerCrashTests(ITestOutputHelper output)
{
    private const int Devices = 20;
    private const int Window = 4;
    private const int Rounds = 3;
    private const string HostName = "localhost";
    private static readonly TimeSpan Total = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sigkill_WhilePublishing_LosesNoAcknowledgedMessage()
    {
        var dataDirectory = TestBroker.CreateTemporaryDirectory();
        try
        {
            await RunAsync(dataDirectory).WaitAsync(Total);
        }
        finally
        {
            TestBroker.DeleteDirectory(dataDirectory);
        }
    }

    private async Task RunAsync(string dataDirectory)
    {
        var devices = new List<Sender>();
        var broker = await BrokerProcess.StartAsync(dataDirectory, Step);
        try
        {
            using (var api = ManagementApi.Connect(dataDirectory, broker.ManagementPort))
            {
                for (int i = 0; i < Devices; i++)
                {
                    var id = $"crash-{i.ToString(CultureInfo.InvariantCulture)}";
                    var key = await api.CreateDeviceAsync(id);
                    devices.Add(new Sender(id, SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(HostName, id), key, DateTimeOffset.UtcNow.AddHours(1))));
                }
            }

            for (int round = 1; round <= Rounds; round++)
            {
                int killAfter = Random.Shared.Next(500, 5001);
                int acknowledged = await PublishUntilKilledAsync(broker, devices, killAfter);
                output.WriteLine($"round {round}: killed after {acknowledged} PUBACKs (target {killAfter})");

                await broker.DisposeAsync();
                broker = await BrokerProcess.StartAsync(dataDirectory, Step);
                await AssertAcknowledgedAreStoredAsync(dataDirectory, broker, devices, round);
            }
        }
        finally
        {
            await broker.DisposeAsync();
        }
    }

    /// <summary>Every device publishes with <see cref="Window"/> PUBLISHes in flight; the broker is SIGKILLed after <paramref name="killAfter"/> PUBACKs.</summary>
    private static async Task<int> PublishUntilKilledAsync(BrokerProcess broker, List<Sender> devices, int killAfter)
    {
        int acknowledged = 0;
        var target = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var clients = new List<IMqttClient>();
        try
        {
            foreach (var device in devices)
            {
                var client = new MqttClientFactory().CreateMqttClient();
                clients.Add(client);
                var connected = await client.ConnectAsync(Options(broker, device));
                Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
            }

            var publishers = devices.Select((device, i) => PublishAsync(clients[i], device, () =>
            {
                if (Interlocked.Increment(ref acknowledged) == killAfter)
                {
                    target.TrySetResult();
                }
            }, stop.Token)).ToList();
            var publishing = Task.WhenAll(publishers);

            // A publisher failing before the kill is a failure of the test, not a reason to wait forever.
            await Task.WhenAny(target.Task, publishing).WaitAsync(Step);
            Assert.True(target.Task.IsCompleted, $"the publishers stopped after {Volatile.Read(ref acknowledged)} PUBACKs: {publishing.Exception}");
            await broker.KillAsync(Step);
            await stop.CancelAsync();
            await publishing.WaitAsync(Step);
            return Volatile.Read(ref acknowledged);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Publishes the device's next messages until the connection dies or <paramref name="stop"/>; records each PUBACKed index.</summary>
    private static async Task PublishAsync(IMqttClient client, Sender device, Action onAcknowledged, CancellationToken stop)
    {
        using var window = new SemaphoreSlim(Window);
        var inFlight = new List<Task>();
        var failed = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, failed.Token);
        try
        {
            while (!linked.IsCancellationRequested)
            {
                try
                {
                    await window.WaitAsync(linked.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                int index = device.NextIndex++;
                inFlight.Add(Publish(index));
                inFlight.RemoveAll(task => task.IsCompleted);
            }

            await Task.WhenAll(inFlight);
        }
        finally
        {
            failed.Dispose();
        }

        async Task Publish(int index)
        {
            try
            {
                var result = await client.PublishAsync(TelemetryTraffic.Message(device.Id, index), linked.Token);
                if (result.IsSuccess)
                {
                    lock (device.Acknowledged)
                    {
                        device.Acknowledged.Add(index);
                    }

                    onAcknowledged();
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // The broker was killed (or the round is over): this message may or may not be stored.
                await failed.CancelAsync();
            }
            finally
            {
                window.Release();
            }
        }
    }

    /// <summary>Reads every event from the start and checks that each acknowledged message is there and each device's events are in order.</summary>
    private async Task AssertAcknowledgedAreStoredAsync(string dataDirectory, BrokerProcess broker, List<Sender> devices, int round)
    {
        var missing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            lock (device.Acknowledged)
            {
                missing.UnionWith(device.Acknowledged.Select(index => TelemetryTraffic.MessageId(device.Id, index)));
            }
        }

        int expected = missing.Count;
        var lastIndex = devices.ToDictionary(d => d.Id, _ => -1);
        int processed = 0;
        int duplicates = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var api = ManagementApi.Connect(dataDirectory, broker.ManagementPort);
        var events = await api.ReadAsync(new ReadEventsRequest { Start = StartPosition.Start }, read =>
        {
            for (; processed < read.Count; processed++)
            {
                var e = read[processed];
                Assert.True(lastIndex.TryGetValue(e.DeviceId, out int last), $"an event from unexpected device '{e.DeviceId}'");
                int index = int.Parse(e.MessageId.AsSpan(e.DeviceId.Length + 1), CultureInfo.InvariantCulture);
                if (!seen.Add(e.MessageId))
                {
                    // At least once allows a message twice (the devices here never resend, so it is only reported).
                    duplicates++;
                    continue;
                }

                Assert.True(index > last, $"{e.MessageId} comes after {e.DeviceId}-{last}: the device's order is lost");

                Assert.Equal(TelemetryTraffic.AppValue(index), e.Properties[TelemetryTraffic.AppProperty]);
                lastIndex[e.DeviceId] = index;
                missing.Remove(e.MessageId);
            }

            return missing.Count == 0;
        }, Step);
        output.WriteLine($"round {round}: {expected} acknowledged messages found among the first {events.Count} events ({duplicates} duplicates)");
    }

    private static MqttClientOptions Options(BrokerProcess broker, Sender device)
        => new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", broker.MqttPort)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId(device.Id)
            .WithCredentials($"{HostName}/{device.Id}/?api-version={TestBroker.ApiVersion}", device.Token)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();

    /// <summary>A device: its token, the next message index (continuing across rounds) and the indexes the broker acknowledged.</summary>
    private sealed class Sender(string id, string token)
    {
        public string Id { get; } = id;

        public string Token { get; } = token;

        public int NextIndex { get; set; }

        public List<int> Acknowledged { get; } = [];
    }
}
