using Broker.Core.Storage;
using Broker.Storage.Faster.Records;
using Broker.Storage.Faster.Recovery;

namespace Broker.Storage.Faster.Events;

/// <summary>Checks event framing during recovery and remembers the last event and the page heads.</summary>
internal sealed class EventRecoveryVisitor(PageTimeIndex index) : IRecordVisitor
{
    public long LastSequence { get; private set; } = -1;

    public long LastTicks { get; private set; }

    public bool Visit(ReadOnlySpan<byte> record, long address, long nextAddress)
    {
        if (!EventRecord.TryParse(record, out long sequence, out long ticks, out _))
        {
            return false;
        }

        index.OnAppend(address, ticks);
        LastSequence = sequence;
        LastTicks = ticks;
        return true;
    }
}

/// <summary>Finds the first event at or after a time.</summary>
internal sealed class FirstAtOrAfter(long ticks) : ITelemetryVisitor
{
    public long Offset { get; private set; } = -1;

    public bool Visit(in TelemetryEvent telemetryEvent)
    {
        if (telemetryEvent.EnqueuedTicks >= ticks)
        {
            Offset = telemetryEvent.Offset;
            return false;
        }

        return true;
    }
}
