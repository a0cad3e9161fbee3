using System.Globalization;
using System.Text;
using Broker.Core.Storage;
using Broker.Storage.Faster;

// A child process for the crash tests: it appends telemetry and state changes as fast as it can and prints a
// line for every record the store reports durable ("E partition n", "S key n"). The test kills it with SIGKILL
// at a random moment and checks that everything printed survived.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: CrashWorker <data-dir>");
    return 2;
}

var options = new FasterStoreOptions
{
    DataDirectory = args[0],
    PartitionCount = 2,
    EventsLog = new LogSizes { PageSizeBits = 14, MemorySizeBits = 17, SegmentSizeBits = 18 },
    StateLog = new LogSizes { PageSizeBits = 14, MemorySizeBits = 16, SegmentSizeBits = 18 },
    StateStore = new StateStoreSizes { IndexBytes = 1 << 16, MemoryBytes = 1 << 20, PageBytes = 1 << 14, SegmentBytes = 1 << 18, CompactionThresholdBytes = 1 << 19 },
    CheckpointInterval = TimeSpan.FromMilliseconds(50),
};

await using var store = FasterHubStore.Open(options, new StderrLoggerFactory());
var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };
var acks = new AckPrinter(output);
var next = new long[store.PartitionCount];
for (int p = 0; p < store.PartitionCount; p++)
{
    next[p] = store.GetPartition(p).Events.NextSequenceNumber;
}

output.WriteLine("READY");
var window = new SemaphoreSlim(4096);
acks.Window = window;
// State values must rise across runs: start above every value a previous run wrote (and may have acknowledged).
long counter = 0;
for (int key = 0; key < 16; key++)
{
    var buffer = new System.Buffers.ArrayBufferWriter<byte>();
    if (store.GetPartition(0).State.TryRead(StateRecordKind.Twin, Encoding.UTF8.GetBytes($"k{key}"), buffer))
    {
        counter = Math.Max(counter, long.Parse(Encoding.UTF8.GetString(buffer.WrittenSpan), CultureInfo.InvariantCulture) + 4);
    }
}

counter -= counter % 4;
var random = new Random();
while (true)
{
    window.Wait();
    int partition = (int)(counter % store.PartitionCount);
    var events = store.GetPartition(partition).Events;
    long n = next[partition]++;
    var body = Encoding.UTF8.GetBytes($"{partition}:{n}:" + new string('x', random.Next(0, 600)));
    events.Append(body, acks, AckPrinter.EventToken(partition, n));
    if (counter % 4 == 0)
    {
        window.Wait();
        var state = store.GetPartition(partition).State;
        int key = (int)(counter / 4 % 16);
        long address = state.Upsert(StateRecordKind.Twin, Encoding.UTF8.GetBytes($"k{key}"), Encoding.UTF8.GetBytes(counter.ToString(CultureInfo.InvariantCulture)));
        state.WhenDurable(address, acks, AckPrinter.StateToken(key, counter));
    }

    counter++;
}

/// <summary>Prints one line per durable record; tokens encode what the record was.</summary>
internal sealed class AckPrinter(StreamWriter output) : IDurabilityCallback
{
    private readonly Lock _lock = new();

    public SemaphoreSlim? Window { get; set; }

    public static long EventToken(int partition, long n) => ((long)partition << 56) | n;

    public static long StateToken(int key, long value) => (1L << 62) | ((long)key << 48) | value;

    public void OnDurable(long token)
    {
        lock (_lock)
        {
            if ((token & (1L << 62)) != 0)
            {
                output.WriteLine($"S k{(token >> 48) & 0x3FFF} {token & 0xFFFF_FFFF_FFFF}");
            }
            else
            {
                output.WriteLine($"E {token >> 56} {token & 0xFF_FFFF_FFFF_FFFF}");
            }
        }

        Window?.Release();
    }

    public void OnFailed(long token, Exception error)
    {
        Console.Error.WriteLine(error);
        Environment.Exit(3);
    }
}
