namespace Broker.Storage.Faster;

/// <summary>How appends are grouped into commits.</summary>
public sealed class GroupCommitOptions
{
    /// <summary>
    /// How long a commit may wait for more appends once one is pending. Zero (the default) commits as soon as
    /// the previous commit has finished, which groups naturally under load and adds no latency when idle.
    /// </summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Pending bytes that end the wait early (default 256 KiB).</summary>
    public int MaxBytes { get; set; } = 256 * 1024;
}
