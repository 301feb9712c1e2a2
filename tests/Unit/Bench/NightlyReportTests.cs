using System.Collections.Generic;
using System.Linq;
using XetPs.Bench.Nightly;

namespace XetPs.Tests.Bench;

/// <summary>
/// Specifications of the nightly benchmark's report: medians per revision and client, the fetched share of the file,
/// and the summary line, whose time ratios are XetPs's wall time over the other client's.
/// </summary>
public class NightlyReportTests
{
    private const long MiB = 1L << 20;
    private static readonly string[] Variants = ["append", "middle"];
    private static readonly string[] Clients = ["xetps", "cmdlet", "hfjs", "curl"];

    private static readonly NightlySample[] Samples =
    [
        new("append", "xetps", 1, 0.50, 17 * MiB, 10, 511 * MiB),
        new("append", "xetps", 2, 0.40, 16 * MiB, 12, 512 * MiB),
        new("append", "xetps", 3, 0.90, 18 * MiB, 11, 510 * MiB),
        new("append", "hfjs", 1, 5.00, 528 * MiB, 40),
        new("append", "hfjs", 2, 4.00, 528 * MiB, 40),
        new("append", "curl", 1, 1.00, 528 * MiB, 2),
        new("append", "curl", 2, 2.00, 528 * MiB, 2),
    ];

    [Fact]
    public void Rows_take_medians_per_revision_and_client_and_skip_clients_without_runs()
    {
        var rows = NightlyReport.Rows(Samples, Variants, Clients);

        Assert.Equal(["xetps", "hfjs", "curl"], rows.Select(r => r.Client));
        Assert.Equal(new NightlyRow("append", "xetps", 3, 17 * MiB, 11, 511 * MiB, 0.50, 0.40, 0.90, null), rows[0]);
        // An even number of runs: the mean of the middle two.
        Assert.Equal(1.50, rows[2].WallSeconds, 9);
        Assert.Null(rows[2].BytesReused);
    }

    [Fact]
    public void The_table_gives_the_fetched_share_of_the_revision()
    {
        var table = NightlyReport.Table(NightlyReport.Rows(Samples, Variants, Clients), new Dictionary<string, long> { ["append"] = 528 * MiB });

        Assert.Contains("| append | xetps | 3 | 17.0 | 0.032 | 11 | 511.0 | 0.50 | 0.40-0.90 |  |", table);
        Assert.Contains("| append | curl | 2 | 528.0 | 1.000 | 2 |  | 1.50 | 1.00-2.00 |  |", table);
    }

    [Fact]
    public void The_summary_gives_fetched_MiB_and_XetPs_time_over_each_other_client()
    {
        var rows = NightlyReport.Rows(Samples, Variants, Clients);

        Assert.Equal("nightly: variant=append size=512MiB xetps_fetched=17.0MiB hfjs_fetched=528.0MiB curl_fetched=528.0MiB xetps/hfjs_time=0.11 xetps/curl_time=0.33",
                     NightlyReport.SummaryLine("append", 512, rows));
    }

    [Fact]
    public void A_client_without_a_valid_run_is_n_a_in_the_summary()
    {
        var rows = NightlyReport.Rows(Samples[..5], Variants, Clients);

        Assert.Equal("nightly: variant=append size=512MiB xetps_fetched=17.0MiB hfjs_fetched=528.0MiB curl_fetched=n/a xetps/hfjs_time=0.11 xetps/curl_time=n/a",
                     NightlyReport.SummaryLine("append", 512, rows));
    }
}
