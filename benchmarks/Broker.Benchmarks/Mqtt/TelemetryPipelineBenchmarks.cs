using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Core.Hub;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Storage.Faster;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.IotHub;
using Broker.Protocols.Mqtt.Server;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Broker.Benchmarks.Mqtt;

/// <summary>
/// The whole device-to-cloud path in process, without sockets: PUBLISH bytes into a connection's input pipe →
/// the MQTT engine parses them in place → IoT Hub topic grammar → append to the partition's events log → group
/// commit → PUBACK written to the output pipe, which the benchmark reads back. One operation is one message.
/// Budget: 0 B per message (what remains is per commit, shared by the messages of a batch).
/// </summary>
[MemoryDiagnoser]
public class TelemetryPipelineBenchmarks
{
    private const int Messages = 1000;
    private readonly Pipe _toBroker = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Pipe _fromBroker = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private string _directory = "";
    private FasterHubStore _store = null!;
    private MqttConnectionMonitor _monitor = null!;
    private Task _connection = Task.CompletedTask;
    private byte[] _batch = [];

    [Params(256, 1024)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "broker-benchmarks", Guid.NewGuid().ToString("N"));
        _store = FasterHubStore.Open(new FasterStoreOptions { DataDirectory = _directory, PartitionCount = 1, CheckpointInterval = TimeSpan.FromHours(1) });
        var time = TimeProvider.System;
        var registry = new IdentityRegistry(_store, time);
        var device = await registry.CreateDeviceAsync(new Device { DeviceId = "bench-device" });
        var policies = await SharedAccessPolicies.LoadOrCreateAsync(_store);
        var authenticator = new DeviceAuthenticator("bench-hub", registry, policies, time);
        var policy = new IotHubMqttConnectPolicy(authenticator, IotHubHubServices.Create(_store, registry, new ConnectionRegistry(), time), time,
            Options.Create(new HubOptions { HostName = "bench-hub" }), NullLogger<IotHubMqttConnectPolicy>.Instance);
        var serverOptions = Options.Create(new MqttServerOptions { SweepInterval = TimeSpan.FromHours(1) });
        _monitor = new MqttConnectionMonitor(serverOptions, time);
        var context = new DefaultConnectionContext("bench",
            new DuplexPipe(_toBroker.Reader, _fromBroker.Writer), new DuplexPipe(_fromBroker.Reader, _toBroker.Writer));
        var connection = new MqttConnection(context, null, policy, _monitor, serverOptions.Value, time, NullLogger.Instance);
        _connection = connection.RunAsync();

        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor("bench-hub", "bench-device"), device.Authentication!.SymmetricKey!.PrimaryKey!, DateTimeOffset.UtcNow.AddHours(4));
        MqttPacketWriter.WriteConnect(_toBroker.Writer, new MqttConnectContent
        {
            ClientId = "bench-device"u8,
            CleanSession = true,
            KeepAliveSeconds = 0,
            HasUserName = true,
            UserName = "bench-hub/bench-device/?api-version=2021-04-12"u8,
            HasPassword = true,
            Password = Encoding.UTF8.GetBytes(token),
        });
        await _toBroker.Writer.FlushAsync();
        await ReadExactlyAsync(4); // CONNACK

        var writer = new ArrayBufferWriter<byte>();
        var payload = new byte[PayloadBytes];
        for (int i = 0; i < Messages; i++)
        {
            MqttPacketWriter.WritePublish(writer, "devices/bench-device/messages/events/%24.ct=application%2Fjson&k=v"u8,
                (ushort)(i + 1), MqttQualityOfService.AtLeastOnce, false, false, payload);
        }

        _batch = writer.WrittenSpan.ToArray();

        for (long i = 0, batches = EventsLogWarmUp.Batches(PayloadBytes, Messages); i < batches; i++)
        {
            await PublishToPubAck();
        }
    }

    /// <summary>
    /// 1,000 QoS 1 PUBLISHes in, 1,000 PUBACKs out (each sent only once its event is durable). A pooled value task, so
    /// that the benchmark's own awaits allocate nothing (an async Task costs its state machine per invocation).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask PublishToPubAck()
    {
        var memory = _toBroker.Writer.GetMemory(_batch.Length);
        _batch.CopyTo(memory);
        _toBroker.Writer.Advance(_batch.Length);
        await _toBroker.Writer.FlushAsync();
        await ReadExactlyAsync(Messages * 4);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadExactlyAsync(int bytes)
    {
        while (bytes > 0)
        {
            var result = await _fromBroker.Reader.ReadAsync();
            long take = Math.Min(bytes, result.Buffer.Length);
            _fromBroker.Reader.AdvanceTo(result.Buffer.GetPosition(take));
            bytes -= (int)take;
            if (result.IsCompleted && bytes > 0)
            {
                throw new InvalidOperationException("The broker closed the connection.");
            }
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _toBroker.Writer.CompleteAsync();
        await _connection;
        _monitor.Dispose();
        await _store.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
