using System.Diagnostics;
using System.Globalization;

namespace Broker.LoadGenerator;

/// <summary>
/// CPU time of this process, of the broker (by pid, from /proc) and of the whole machine, so a report shows whether
/// the generator or the broker used up the cores.
/// </summary>
internal sealed class CpuSampler(int? brokerPid)
{
    // USER_HZ: the unit of /proc times; 100 on every mainstream Linux build.
    private const double ClockTicksPerSecond = 100;

    private Sample _start;

    public void Start() => _start = Take();

    /// <summary>Busy percentages (100 = one core) since <see cref="Start"/>: generator, broker (if known), machine.</summary>
    public (double Generator, double? Broker, double Machine) Stop()
    {
        var end = Take();
        var wall = Stopwatch.GetElapsedTime(_start.Stamp, end.Stamp).TotalSeconds;
        var generator = (end.Own - _start.Own).TotalSeconds / wall * 100;
        double? broker = end.Broker is { } b && _start.Broker is { } a ? (b - a) / ClockTicksPerSecond / wall * 100 : null;
        var machineTotal = end.MachineTotal - _start.MachineTotal;
        var machine = machineTotal > 0 ? (double)(machineTotal - (end.MachineIdle - _start.MachineIdle)) / machineTotal * 100 * Environment.ProcessorCount : 0;
        return (generator, broker, machine);
    }

    private Sample Take()
    {
        using var self = Process.GetCurrentProcess();
        var (total, idle) = MachineTicks();
        return new Sample(Stopwatch.GetTimestamp(), self.TotalProcessorTime, brokerPid is { } pid ? ProcessTicks(pid) : null, total, idle);
    }

    private static long? ProcessTicks(int pid)
    {
        try
        {
            // The command name may hold spaces and parentheses; the fields after the last ')' are fixed.
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static (long Total, long Idle) MachineTicks()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();

            // user nice system idle iowait irq softirq steal: idle and iowait are the idle part.
            return (values.Take(8).Sum(), values[3] + values[4]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (0, 0);
        }
    }

    private readonly record struct Sample(long Stamp, TimeSpan Own, long? Broker, long MachineTotal, long MachineIdle);
}
