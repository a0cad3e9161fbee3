using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Broker.Core.Security;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Broker.IntegrationTests.Telemetry;
using Broker.Management.V1;
using Google.Protobuf;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.CloudToDevice;

/// <summary>
/// Issue #6: what the management API acknowledged is durable. The broker process is SIGKILLed while a back end
/// sends cloud-to-device messages, updates desired properties and creates jobs (over the service REST API); after a
/// restart on the same data directory every acknowledged message is delivered to its device, every acknowledged twin
/// change is in the twin and every acknowledged job is there, still scheduled.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class HubStateCrashTests(ITestOutputHelper output)
{
    private const int Devices = 8;
    private const string HostName = "localhost";
    private static readonly TimeSpan Total = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sigkill_WhileSendingAndUpdatingTwins_LosesNothingAcknowledged()
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
        var broker = await BrokerProcess.StartAsync(dataDirectory, Step);
        try
        {
            var keys = new Dictionary<string, string>(StringComparer.Ordinal);
            using (var api = ManagementApi.Connect(dataDirectory, broker.ManagementPort))
            {
                for (int i = 0; i < Devices; i++)
                {
                    var id = $"state-crash-{i.ToString(CultureInfo.InvariantCulture)}";
                    keys[id] = await api.CreateDeviceAsync(id);
                }
            }

            var sent = new ConcurrentDictionary<string, ConcurrentBag<string>>(StringComparer.Ordinal);
            var desired = new ConcurrentDictionary<string, ConcurrentBag<int>>(StringComparer.Ordinal);
            var jobs = new ConcurrentBag<string>();
            int killAfter = Random.Shared.Next(20, 200);
            int acknowledged = await SendUntilKilledAsync(dataDirectory, broker, keys.Keys.ToList(), sent, desired, jobs, killAfter);
            output.WriteLine($"killed after {acknowledged} acknowledged calls (target {killAfter})");

            await broker.DisposeAsync();
            broker = await BrokerProcess.StartAsync(dataDirectory, Step);

            using var after = ManagementApi.Connect(dataDirectory, broker.ManagementPort);
            foreach (var (id, versions) in desired)
            {
                var twin = await after.Twins.GetTwinAsync(new GetTwinRequest { DeviceId = id }, after.Call());
                using var document = JsonDocument.Parse(twin.TwinJson);
                var properties = document.RootElement.GetProperty("properties").GetProperty("desired");
                foreach (int n in versions)
                {
                    Assert.True(properties.TryGetProperty($"k{n}", out var value) && value.GetInt32() == n, $"{id}: acknowledged desired k{n} is missing");
                }
            }

            using (var rest = ServiceRest(dataDirectory, broker))
            {
                foreach (string jobId in jobs)
                {
                    var answer = await rest.GetAsync(new Uri($"/jobs/v2/{jobId}?api-version=2021-04-12", UriKind.Relative));
                    Assert.True(answer.IsSuccessStatusCode, $"acknowledged job {jobId} is missing ({(int)answer.StatusCode})");
                    using var job = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
                    Assert.Equal("scheduled", job.RootElement.GetProperty("status").GetString());
                }
            }

            output.WriteLine($"{jobs.Count} acknowledged jobs found after the restart");
            foreach (var (id, messageIds) in sent)
            {
                await AssertDeliveredAsync(broker, id, keys[id], messageIds.ToHashSet(StringComparer.Ordinal));
            }
        }
        finally
        {
            await broker.DisposeAsync();
        }
    }

    // Each device gets a sender of C2D messages and a writer of desired properties; the broker dies after `killAfter` acknowledgements.
    private static async Task<int> SendUntilKilledAsync(string dataDirectory, BrokerProcess broker, List<string> ids,
        ConcurrentDictionary<string, ConcurrentBag<string>> sent, ConcurrentDictionary<string, ConcurrentBag<int>> desired,
        ConcurrentBag<string> jobs, int killAfter)
    {
        using var rest = ServiceRest(dataDirectory, broker);
        int acknowledged = 0;
        var target = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var api = ManagementApi.Connect(dataDirectory, broker.ManagementPort);
        void Acknowledged()
        {
            if (Interlocked.Increment(ref acknowledged) == killAfter)
            {
                target.TrySetResult();
            }
        }

        async Task SendMessagesAsync(string id)
        {
            // At most 50 pending per device: stop short of the limit.
            for (int n = 0; n < 45; n++)
            {
                string messageId = $"{id}-m{n.ToString(CultureInfo.InvariantCulture)}";
                await api.CloudToDevice.SendMessageAsync(new SendMessageRequest
                {
                    DeviceId = id,
                    MessageId = messageId,
                    Body = ByteString.CopyFromUtf8(messageId),
                }, api.Call());
                sent.GetOrAdd(id, _ => []).Add(messageId);
                Acknowledged();
            }
        }

        async Task UpdateTwinAsync(string id)
        {
            for (int n = 0; n < 1000; n++)
            {
                await api.Twins.UpdateTwinAsync(new UpdateTwinRequest
                {
                    DeviceId = id,
                    TwinJson = $"{{\"properties\":{{\"desired\":{{\"k{n.ToString(CultureInfo.InvariantCulture)}\":{n.ToString(CultureInfo.InvariantCulture)}}}}}}}",
                }, api.Call());
                desired.GetOrAdd(id, _ => []).Add(n);
                Acknowledged();
            }
        }

        // Jobs for a day later: they stay scheduled, so after the restart each must be there as it was acknowledged.
        async Task CreateJobsAsync(string id)
        {
            for (int n = 0; n < 1000; n++)
            {
                string jobId = $"{id}-job{n.ToString(CultureInfo.InvariantCulture)}";
                var body = new StringContent(
                    $$$"""{"type":"scheduleUpdateTwin","queryCondition":"deviceId = '{{{id}}}'","updateTwin":{"tags":{"job":{{{n}}}}},"startTime":"{{{DateTimeOffset.UtcNow.AddDays(1):O}}}"}""",
                    Encoding.UTF8, "application/json");
                var answer = await rest.PutAsync(new Uri($"/jobs/v2/{jobId}?api-version=2021-04-12", UriKind.Relative), body);
                if (!answer.IsSuccessStatusCode)
                {
                    return;
                }

                jobs.Add(jobId);
                Acknowledged();
            }
        }

        var work = Task.WhenAll(ids.SelectMany(id => new[] { Swallow(SendMessagesAsync(id)), Swallow(UpdateTwinAsync(id)), Swallow(CreateJobsAsync(id)) }));
        await Task.WhenAny(target.Task, work).WaitAsync(Step);
        Assert.True(target.Task.IsCompleted, $"the senders stopped after {Volatile.Read(ref acknowledged)} acknowledgements");
        await broker.KillAsync(Step);
        await work.WaitAsync(Step);
        return Volatile.Read(ref acknowledged);

        // A call cut off by the kill may or may not have been stored; only acknowledged calls are recorded.
        static async Task Swallow(Task task)
        {
            try
            {
                await task;
            }
            catch (Exception ex) when (ex is Grpc.Core.RpcException or HttpRequestException)
            {
                // the broker was killed under the call: it was not acknowledged
            }
        }
    }

    private static async Task AssertDeliveredAsync(BrokerProcess broker, string id, string key, HashSet<string> expected)
    {
        using var bound = new CancellationTokenSource(Step);
        var missing = new HashSet<string>(expected, StringComparer.Ordinal);
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += args =>
        {
            lock (missing)
            {
                missing.Remove(Encoding.UTF8.GetString(args.ApplicationMessage.Payload));
                if (missing.Count == 0)
                {
                    allArrived.TrySetResult();
                }
            }

            return Task.CompletedTask;
        };
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(HostName, id), key, DateTimeOffset.UtcNow.AddHours(1));
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", broker.MqttPort)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId(id)
            .WithCredentials($"{HostName}/{id}/?api-version={TestBroker.ApiVersion}", token)
            .Build(), bound.Token);
        await client.SubscribeAsync($"devices/{id}/messages/devicebound/#", MqttQualityOfServiceLevel.AtLeastOnce, bound.Token);
        if (expected.Count > 0)
        {
            try
            {
                await allArrived.Task.WaitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                lock (missing)
                {
                    Assert.Fail($"{id}: acknowledged messages never delivered after the crash: {string.Join(", ", missing)}");
                }
            }
        }

        await client.DisconnectAsync(cancellationToken: CancellationToken.None);
    }

    /// <summary>An HTTPS client for the broker process's service REST API, as its iothubowner policy.</summary>
    private static HttpClient ServiceRest(string dataDirectory, BrokerProcess broker)
    {
        var (_, token) = Amqp.AmqpClient.ServiceToken(dataDirectory, HostName);
        return HubHttps.Client(Path.Combine(dataDirectory, "tls", "ca.crt"), HostName, broker.HttpsPort, token);
    }
}
