using Microsoft.Extensions.Logging;

namespace Broker.Storage.Faster;

/// <summary>The storage engine's log messages (source-generated).</summary>
internal static partial class StorageLog
{
    [LoggerMessage(1, LogLevel.Warning, "Recovery of the {Log} log found a torn or corrupt record in {File} at address {Address} ({Reason}); it kept everything before it and dropped {Dropped} bytes up to the old tail {Tail}.")]
    private static partial void TailDroppedCore(ILogger logger, string log, string file, long address, string reason, long dropped, long tail);

    public static void TailDropped(ILogger logger, string log, string file, long address, long tail, long dropped, string reason)
        => TailDroppedCore(logger, log, file, address, reason, dropped, tail);

    [LoggerMessage(2, LogLevel.Error, "Commit of the {Log} log ({File}) failed; nothing more will be acknowledged.")]
    public static partial void CommitFailed(ILogger logger, Exception exception, string log, string file);

    [LoggerMessage(3, LogLevel.Information, "Partition {Partition} recovered: checkpoint {Checkpoint}, {Replayed} state records replayed, events {EventsBegin}..{EventsTail}, next sequence {NextSequence}.")]
    public static partial void PartitionRecovered(ILogger logger, int partition, string checkpoint, long replayed, long eventsBegin, long eventsTail, long nextSequence);

    [LoggerMessage(4, LogLevel.Warning, "Checkpoint of partition {Partition} has not finished after {Seconds} s.")]
    public static partial void CheckpointStuck(ILogger logger, int partition, double seconds);

    [LoggerMessage(5, LogLevel.Error, "Checkpoint of partition {Partition} failed.")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception, int partition);

    [LoggerMessage(6, LogLevel.Information, "Partition {Partition}: retention truncated the events log below {Address}.")]
    public static partial void RetentionTruncated(ILogger logger, int partition, long address);

    [LoggerMessage(7, LogLevel.Information, "Partition {Partition}: compacted the state store below {Address}.")]
    public static partial void Compacted(ILogger logger, int partition, long address);

    [LoggerMessage(9, LogLevel.Error, "A durability callback of the {Log} log threw; the other waiters were still told.")]
    public static partial void CallbackFailed(ILogger logger, Exception exception, string log);

    [LoggerMessage(8, LogLevel.Warning, "The store keeps the log layout it was created with (events log pages 2^{EventsPage}, segments 2^{EventsSegment}; state log pages 2^{StatePage}, segments 2^{StateSegment} bytes); the configured page and segment sizes apply to new stores only.")]
    public static partial void LayoutKept(ILogger logger, int eventsPage, int eventsSegment, int statePage, int stateSegment);
}
