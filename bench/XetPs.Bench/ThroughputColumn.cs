using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace XetPs.Bench;

/// <summary>
/// BenchmarkDotNet column "MB/s": the benchmark's <c>Length</c> parameter (bytes per operation) divided by its
/// mean time, so byte-processing benchmarks read as throughput.
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);
    public string ColumnName => "MB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Statistics;
    public int PriorityInCategory => 10;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Throughput: Length bytes per operation / mean time, in 10^6 bytes per second";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        var length = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Length")?.Value;
        if (report?.ResultStatistics is null || length is null)
            return "-";
        double bytes = System.Convert.ToDouble(length, CultureInfo.InvariantCulture);
        double seconds = report.ResultStatistics.Mean / 1e9;
        return (bytes / seconds / 1e6).ToString("F0", CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
