using System.Diagnostics;

namespace Broker.LoadGenerator;

/// <summary>
/// Paces one device against an absolute schedule (message k is due at start + k / rate): a token bucket refilled
/// from the clock, woken by a <see cref="PeriodicTimer"/>, so late wake-ups never accumulate into drift.
/// </summary>
internal sealed class Pacer : IDisposable
{
    // Below this the timer wakes too often to be cheap for 100 devices; several messages go out per tick instead.
    private static readonly TimeSpan MinimumPeriod = TimeSpan.FromMilliseconds(2);

    private readonly long _start;
    private readonly double _messagesPerTick;
    private readonly TimeSpan _period;
    private PeriodicTimer? _timer;
    private long _issued;

    public Pacer(double messagesPerSecond, long start)
    {
        _start = start;
        _messagesPerTick = messagesPerSecond / Stopwatch.Frequency;
        var period = TimeSpan.FromSeconds(1 / messagesPerSecond);
        _period = period < MinimumPeriod ? MinimumPeriod : period;
    }

    /// <summary>Waits until at least one message is due and returns how many are (at most <paramref name="max"/>).</summary>
    public async ValueTask<int> NextAsync(int max, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Half a message of slack: a tick that lands a hair early must not push the message to the next tick.
            var due = (long)(((Stopwatch.GetTimestamp() - _start) * _messagesPerTick) + 0.5) - _issued;
            if (due > 0)
            {
                return (int)Math.Min(due, max);
            }

            if (_timer is null)
            {
                // Start ticking at this device's (staggered) start, so ticks line up with its due times.
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }

                _timer = new PeriodicTimer(_period);
                continue;
            }

            await _timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Consumed(int count) => _issued += count;

    public void Dispose() => _timer?.Dispose();
}
