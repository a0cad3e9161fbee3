using System.Buffers;
using Broker.Core.Storage;

namespace Broker.Storage.Faster.Tests;

/// <summary>Copies events out of a reader for assertions.</summary>
internal sealed class EventCollector : ITelemetryVisitor
{
    public List<(long Offset, long Sequence, long Ticks, byte[] Body)> Events { get; } = [];

    public bool Visit(in TelemetryEvent telemetryEvent)
    {
        Events.Add((telemetryEvent.Offset, telemetryEvent.SequenceNumber, telemetryEvent.EnqueuedTicks, telemetryEvent.Body.ToArray()));
        return true;
    }

    public static List<(long Offset, long Sequence, long Ticks, byte[] Body)> ReadAll(ITelemetryLog log, long from = 0)
    {
        var collector = new EventCollector();
        using var reader = log.OpenReader(from);
        while (reader.Read(collector, 4096) > 0)
        {
        }

        return collector.Events;
    }
}

/// <summary>Copies the records of a state scan.</summary>
internal sealed class StateCollector : IStateVisitor
{
    public Dictionary<string, byte[]> Records { get; } = [];

    public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Records[System.Text.Encoding.UTF8.GetString(key)] = value.ToArray();
        return true;
    }
}

internal static class StateExtensions
{
    public static byte[]? Read(this IStateStore state, StateRecordKind kind, string key)
    {
        var buffer = new ArrayBufferWriter<byte>();
        return state.TryRead(kind, System.Text.Encoding.UTF8.GetBytes(key), buffer) ? buffer.WrittenSpan.ToArray() : null;
    }

    public static long Put(this IStateStore state, StateRecordKind kind, string key, string value)
        => state.Upsert(kind, System.Text.Encoding.UTF8.GetBytes(key), System.Text.Encoding.UTF8.GetBytes(value));
}
