using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace Broker.Benchmarks.Amqp;

/// <summary>
/// The whole device-to-cloud path over AMQP in process, without sockets (the MQTT twin is
/// <see cref="Mqtt.TelemetryPipelineBenchmarks"/>): transfer frames into a connection's input pipe → the AMQP engine
/// finds and decodes them in place → the IoT Hub telemetry endpoint writes the property bag and appends the event to
/// the partition's events log → group commit → accepted dispositions written to the output pipe, which the benchmark
/// reads back. One operation is one message. Budget: 0 B per message (what remains is per commit, shared by the
/// messages of a batch).
/// </summary>
[MemoryDiagnoser]
public class AmqpTelemetryPipelineBenchmarks
{
    private const int Messages = 1000;
    private string _directory = "";
    private AmqpTelemetryPipeline _pipeline = null!;

    [Params(256, 1024)]
    public int PayloadBytes { get; set; }

    /// <summary>0: a batch arrives in one pipe segment; 4096: in 4 KB segments, as a socket transport hands it over, so frames straddle segments.</summary>
    [Params(0, 4096)]
    public int SegmentBytes { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "broker-benchmarks", Guid.NewGuid().ToString("N"));
        _pipeline = await AmqpTelemetryPipeline.StartAsync(_directory, Messages, PayloadBytes, SegmentBytes);

        for (long i = 0, batches = EventsLogWarmUp.Batches(PayloadBytes, Messages); i < batches; i++)
        {
            await _pipeline.SendBatchAsync();
        }
    }

    /// <summary>1,000 unsettled transfers in, 1,000 accepted dispositions out (each sent only once its event is durable).</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask TransferToAccepted() => await _pipeline.SendBatchAsync();

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _pipeline.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
