namespace Broker.Core.Storage;

/// <summary>Receives the records of a state scan; the spans are only valid during the call.</summary>
public interface IStateVisitor
{
    /// <summary>Called once per live record; return false to stop the scan.</summary>
    bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);
}
