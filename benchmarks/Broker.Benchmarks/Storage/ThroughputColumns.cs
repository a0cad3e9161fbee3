using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Broker.Benchmarks.Storage;

/// <summary>Adds records/s and MB/s (10^6 bytes of record bodies per second), both from the median time per record.</summary>
public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig()
    {
        AddColumn(new ThroughputColumn(bytes: false), new ThroughputColumn(bytes: true));
    }
}

/// <summary>A derived column: throughput per record (the benchmarks report time per record via OperationsPerInvoke).</summary>
internal sealed class ThroughputColumn(bool bytes) : IColumn
{
    public string Id => bytes ? "Throughput.MBps" : "Throughput.RecordsPerSecond";

    public string ColumnName => bytes ? "MB/s" : "Records/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => bytes ? 1 : 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => bytes
        ? "Record bodies written per second, in 10^6 bytes (RecordSize x Records/s)"
        : "Records appended per second, from the median time per record";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (statistics is null || statistics.Median <= 0)
        {
            return "NA";
        }

        double recordsPerSecond = 1e9 / statistics.Median;
        if (!bytes)
        {
            return recordsPerSecond.ToString("N0", style.CultureInfo);
        }

        var size = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "RecordSize")?.Value;
        return size is int recordSize ? (recordsPerSecond * recordSize / 1e6).ToString("N1", style.CultureInfo) : "NA";
    }

    public override string ToString() => ColumnName;
}
