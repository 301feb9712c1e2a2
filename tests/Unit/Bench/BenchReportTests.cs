using System;
using System.Collections.Generic;
using System.Linq;
using XetPs.Bench.SideBySide;
using XetPs.Hub;

namespace XetPs.Tests.Bench;

/// <summary>
/// Specifications of the side-by-side report: medians, speed ratios against curl from the same run, a failed or wrong
/// run voiding its row, the summary's worst cases, the scaling fit, and reading GNU time's output.
/// </summary>
public class BenchReportTests
{
    private const long GiB = 1L << 30;

    private static BenchDataset Dataset(string name, string group, long bytes) =>
        new(name, RepoId.Parse("bench/" + group), "f.bin", [new ExpectedFile("f.bin", bytes, new string('0', 64))], group);

    private static BenchSample Run(string client, string dataset, double wall, long rssMiB = 100, string? failure = null,
                                   int rep = 1) =>
        new(client, dataset, rep, new ProcessCost(wall, rssMiB << 20, wall / 2, 0.1), 0, failure);

    [Fact]
    public void Median_of_an_even_count_is_the_mean_of_the_middle_pair()
    {
        Assert.Equal(2.5, BenchReport.MedianOf([4.0, 1.0, 3.0, 2.0]));
        Assert.Equal(3.0, BenchReport.MedianOf([5.0, 3.0, 1.0]));
    }

    [Fact]
    public void Speed_ratio_against_curl_is_curl_wall_over_client_wall_from_the_same_data_set()
    {
        var set = Dataset("inc", "incompressible", 2 * GiB);
        var rows = BenchReport.Rows(
            [Run("curl", "inc", 4.0), Run("curl", "inc", 6.0, rep: 2), Run("engine", "inc", 2.0), Run("engine", "inc", 3.0, rep: 2)],
            [set], "curl-p16");

        var engine = rows.Single(r => r.Client == "engine");
        Assert.Equal(2.5, engine.MedianWallSeconds);
        Assert.Equal(5.0 / 2.5, engine.SpeedVsCurl!.Value, 9);
        Assert.Equal(2 * GiB / 2.5 / 1e6, engine.MegabytesPerSecond, 6);
        Assert.Equal(2.5 / 2, engine.SecondsPerGib, 9);
        Assert.Null(engine.SpeedVsCurlParallel);
    }

    [Fact]
    public void A_failed_run_voids_its_row_and_every_ratio_against_it()
    {
        var set = Dataset("inc", "incompressible", GiB);
        var rows = BenchReport.Rows(
            [Run("curl", "inc", 1.0), Run("curl", "inc", 1.0, failure: "sha256 mismatch", rep: 2), Run("engine", "inc", 2.0)],
            [set], "curl-p16");

        Assert.Equal("sha256 mismatch", rows.Single(r => r.Client == "curl").Void);
        Assert.Null(rows.Single(r => r.Client == "engine").SpeedVsCurl);
        Assert.Contains("VOID: sha256 mismatch", BenchReport.Markdown(rows));
    }

    [Fact]
    public void Paired_ratio_against_curl_compares_runs_of_the_same_repetition_so_a_slow_stretch_cancels_out()
    {
        var sets = new[] { Dataset("inc", "incompressible", GiB) };
        // The machine slows down from one repetition to the next; within each, the engine is 20% slower than curl
        // twice and 7% faster once. The medians (3.0 against 2.8) would pair curl's middle run with the engine's.
        var rows = BenchReport.Rows(
        [
            Run("curl", "inc", 1.0, rep: 1), Run("engine", "inc", 1.2, rep: 1),
            Run("curl", "inc", 3.0, rep: 2), Run("engine", "inc", 2.8, rep: 2),
            Run("curl", "inc", 5.0, rep: 3), Run("engine", "inc", 6.0, rep: 3),
        ], sets, "curl-p16");

        var engine = rows.Single(r => r.Client == "engine");
        Assert.Equal(3.0 / 2.8, engine.SpeedVsCurl!.Value, 9);
        Assert.Equal(1.0 / 1.2, engine.PairedSpeedVsCurl!.Value, 9);
        var summary = BenchReport.Summarize(rows, bufferMiB: 64);
        Assert.Equal(1.0 / 1.2, summary.XetPsOverCurlPaired!.Value, 9);
        Assert.Contains("table xetps/curl=1.07 (medians), paired by repetition=0.83;", BenchReport.TransferLimitLine(summary));
    }

    private static BenchSample Round(string client, double wall, int round, string? failure = null) =>
        Run(client, "inc", wall, failure: failure, rep: round) with { HeadToHead = true };

    [Fact]
    public void Head_to_head_runs_stay_out_of_the_table_whose_rows_were_interleaved_with_every_client()
    {
        var rows = BenchReport.Rows(
            [Run("curl", "inc", 2.0), Run("engine", "inc", 2.5), Round("curl", 9.0, 1), Round("engine", 1.0, 1)],
            [Dataset("inc", "incompressible", GiB)], "curl-p16");

        var engine = rows.Single(r => r.Client == "engine");
        Assert.Equal(1, engine.Runs);
        Assert.Equal(2.5, engine.MedianWallSeconds);
        Assert.Equal(2.0 / 2.5, engine.SpeedVsCurl!.Value, 9);
    }

    [Fact]
    public void Head_to_head_gives_each_client_the_median_of_its_ratios_to_curl_within_a_round_and_an_interval_that_holds_it()
    {
        // Five rounds; the machine slows down over them, and the engine is faster in three of the five.
        double[] curl = [2.0, 2.2, 2.6, 3.0, 3.6], engine = [1.9, 2.3, 2.5, 2.9, 3.7];
        var samples = curl.Select((c, i) => Round("curl", c, i + 1))
            .Concat(engine.Select((e, i) => Round("engine", e, i + 1)))
            .Concat(curl.Select((c, i) => Round("engine-default", c / 1.25, i + 1))).ToList();

        var h = BenchReport.HeadToHead(samples, "inc")!;

        var ratios = curl.Zip(engine, (c, e) => c / e).ToArray();
        var e64 = h.For("engine")!;
        Assert.Equal(5, h.Rounds);
        Assert.Equal(5, e64.Pairs);
        Assert.Equal(BenchReport.MedianOf(ratios), e64.PairedMedian, 9);
        Assert.InRange(e64.PairedMedian, e64.CiLow, e64.CiHigh);
        Assert.True(e64.CiLow >= ratios.Min() && e64.CiHigh <= ratios.Max());
        Assert.True(e64.CiLow < e64.CiHigh);
        Assert.Equal(2.6, e64.CurlMedianWallSeconds);
        Assert.Equal(2.5, e64.ClientMedianWallSeconds);
        Assert.Equal(1.25, h.For("engine-default")!.PairedMedian, 9); // 25% faster than curl in every round
        Assert.Equal(h.Comparisons, BenchReport.HeadToHead(samples, "inc")!.Comparisons); // rebuilt from the same samples: the same report
    }

    [Fact]
    public void Head_to_head_rounds_rotate_the_order_so_each_client_takes_each_place_once_per_cycle()
    {
        string[] clients = ["curl", "engine", "engine-default"];
        var rounds = Enumerable.Range(1, 3).Select(r => BenchReport.HeadToHeadRoundOrder(clients, r)).ToList();

        Assert.All(rounds, order => Assert.Equal(clients.Order(), order.Order()));
        for (var place = 0; place < clients.Length; place++)
            Assert.Equal(clients.Order(), rounds.Select(order => order[place]).Order());
        Assert.Equal(["engine", "curl"], BenchReport.HeadToHeadRoundOrder(["curl", "engine"], 1));
        Assert.Equal(["curl", "engine"], BenchReport.HeadToHeadRoundOrder(["curl", "engine"], 2));
    }

    [Fact]
    public void Bootstrap_interval_of_identical_ratios_is_that_ratio()
    {
        Assert.Equal((1.1, 1.1), BenchReport.BootstrapMedianInterval([1.1, 1.1, 1.1, 1.1]));
    }

    [Fact]
    public void Summary_takes_xetps_curl_from_the_engines_head_to_head_and_keeps_the_tables_figures_beside_it()
    {
        var rows = BenchReport.Rows([Run("curl", "inc", 2.0), Run("engine", "inc", 2.5)],
                                    [Dataset("inc", "incompressible", GiB)], "curl-p16");
        var headToHead = BenchReport.HeadToHead(
        [
            Round("engine", 2.0, 1), Round("engine-default", 1.1, 1), Round("curl", 2.2, 1),
            Round("engine-default", 1.32, 2), Round("curl", 2.64, 2), Round("engine", 2.4, 2),
        ], "inc");

        var summary = BenchReport.Summarize(rows, bufferMiB: 64, headToHead);

        Assert.Equal(1.1, summary.XetPsOverCurl!.Value, 9);
        Assert.Equal(0.8, summary.XetPsOverCurlTable!.Value, 9);
        Assert.StartsWith("summary: xetps/curl=1.10 ", BenchReport.SummaryLine(summary));
        Assert.Equal("head-to-head (inc, 2 rounds back to back, the order rotating; target >= 1.00): "
                     + "xetps/curl paired median=1.10 (95% bootstrap interval 1.10-1.10; medians 2.20 s against 2.42 s); "
                     + "engine-default/curl paired median=2.00 (95% bootstrap interval 2.00-2.00; medians 1.21 s against 2.42 s)",
                     BenchReport.HeadToHeadLine(summary));
        Assert.Contains("table xetps/curl=0.80 (medians)", BenchReport.TransferLimitLine(summary));
    }

    [Fact]
    public void A_failed_head_to_head_run_voids_the_phase_and_leaves_xetps_curl_unmeasured()
    {
        var rows = BenchReport.Rows([Run("curl", "inc", 2.0), Run("engine", "inc", 1.0)],
                                    [Dataset("inc", "incompressible", GiB)], "curl-p16");
        var headToHead = BenchReport.HeadToHead(
            [Round("curl", 2.0, 1), Round("engine", 1.0, 1), Round("engine", 1.0, 2, failure: "sha256 mismatch"), Round("curl", 2.0, 2)], "inc");

        var summary = BenchReport.Summarize(rows, bufferMiB: 64, headToHead);

        Assert.Null(summary.XetPsOverCurl);
        Assert.Equal("head-to-head (inc): VOID: engine #2: sha256 mismatch", BenchReport.HeadToHeadLine(summary));
        Assert.StartsWith("summary: xetps/curl=n/a ", BenchReport.SummaryLine(summary));
    }

    [Fact]
    public void The_warm_engine_is_timed_by_its_own_clock_because_its_process_also_holds_the_downloads_that_warmed_it()
    {
        var headToHead = BenchReport.HeadToHead(
        [
            Round("curl", 3.0, 1), Round("engine", 3.0, 1), Round("engine-warm", 9.0, 1) with { InProcessSeconds = 2.4 },
            Round("engine-warm", 8.0, 2) with { InProcessSeconds = 2.0 }, Round("curl", 2.5, 2), Round("engine", 2.5, 2),
        ], "inc")!;

        var warm = headToHead.For("engine-warm")!;
        Assert.Equal(BenchReport.MedianOf([3.0 / 2.4, 2.5 / 2.0]), warm.PairedMedian, 9);
        Assert.Equal(2.2, warm.ClientMedianWallSeconds, 9);
        Assert.Equal(1.0, headToHead.For("engine")!.PairedMedian, 9); // the others keep the process's wall time
        var summary = BenchReport.Summarize(BenchReport.Rows([], [Dataset("inc", "incompressible", GiB)], "curl-p16"), 64, headToHead);
        Assert.Equal(1.0, summary.XetPsOverCurl!.Value, 9); // the summary stays the cold engine's
        Assert.EndsWith("engine-warm/curl paired median=1.25 (95% bootstrap interval 1.25-1.25; medians 2.20 s by its own clock against 2.75 s)",
                        BenchReport.HeadToHeadLine(summary));
    }

    [Fact]
    public void The_cmdlets_in_the_head_to_head_are_compared_with_the_engine_of_their_round_by_both_clocks_not_with_curl()
    {
        var headToHead = BenchReport.HeadToHead(
        [
            Round("curl", 3.0, 1), Round("engine", 3.0, 1) with { InProcessSeconds = 2.5 }, Round("cmdlet", 3.9, 1) with { InProcessSeconds = 2.7 },
            Round("cmdlet-prompt", 8.9, 1) with { InProcessSeconds = 2.55 },
            Round("cmdlet", 3.1, 2) with { InProcessSeconds = 2.2 }, Round("curl", 2.0, 2), Round("engine", 2.2, 2) with { InProcessSeconds = 2.0 },
            Round("cmdlet-prompt", 8.1, 2) with { InProcessSeconds = 2.08 },
            Round("curl", 2.0, 3), Round("engine", 2.2, 3) with { InProcessSeconds = 2.0 }, // a round without the cmdlets
        ], "inc")!;

        Assert.Null(headToHead.Void);
        Assert.Null(headToHead.For("cmdlet"));        // their wall holds PowerShell's start-up (and the pause):
        Assert.Null(headToHead.For("cmdlet-prompt")); // no figure against curl
        var prompt = headToHead.CmdletLayer("cmdlet-prompt")!;
        Assert.Equal(2, prompt.Pairs);
        Assert.Equal(BenchReport.MedianOf([2.55 / 2.5, 2.08 / 2.0]), prompt.PairedMedian, 9); // 1.02 and 1.04
        Assert.InRange(prompt.PairedMedian, prompt.CiLow, prompt.CiHigh);
        Assert.Equal(BenchReport.MedianOf([2.55, 2.08]), prompt.CmdletMedianSeconds, 9);
        Assert.Equal(2.25, prompt.EngineMedianSeconds, 9);
        Assert.Equal(BenchReport.MedianOf([2.7 / 2.5, 2.2 / 2.0]), headToHead.CmdletLayer("cmdlet")!.PairedMedian, 9); // 1.08 and 1.10
        var summary = BenchReport.Summarize(BenchReport.Rows([], [Dataset("inc", "incompressible", GiB)], "curl-p16"), 64, headToHead);
        var line = BenchReport.CmdletLine(summary);
        Assert.StartsWith("cmdlet layer: head-to-head (inc), cmdlet/engine in process, paired medians: at a prompt (begun 5 s after PowerShell started; target <= 1.05) 1.03 over 2 rounds (95% bootstrap interval ", line);
        Assert.Contains("; at once (begun as soon as PowerShell started) 1.09 over 2 rounds (", line);
        Assert.Contains("; table: cmdlet/engine wall=n/a", line);
    }

    [Fact]
    public void A_head_to_head_cmdlet_run_that_printed_no_clock_voids_the_phase()
    {
        var headToHead = BenchReport.HeadToHead(
            [Round("curl", 3.0, 1), Round("engine", 3.0, 1) with { InProcessSeconds = 2.5 }, Round("cmdlet-prompt", 8.9, 1)], "inc")!;

        Assert.Null(headToHead.CmdletLayer("cmdlet-prompt"));
        Assert.Equal("cmdlet-prompt #1: no clock of its own in its output", headToHead.Void);
    }

    [Fact]
    public void Without_the_cmdlet_in_the_head_to_head_the_cmdlet_line_is_the_tables_alone()
    {
        var headToHead = BenchReport.HeadToHead([Round("curl", 3.0, 1), Round("engine", 3.0, 1)], "inc")!;

        Assert.Empty(headToHead.CmdletLayers!);
        var summary = BenchReport.Summarize(BenchReport.Rows([], [Dataset("inc", "incompressible", GiB)], "curl-p16"), 64, headToHead);
        Assert.StartsWith("cmdlet layer: cmdlet/engine wall=n/a", BenchReport.CmdletLine(summary));
    }

    [Fact]
    public void Pooled_results_number_each_runs_rounds_on_after_the_last_so_no_pair_spans_two_runs()
    {
        static string Document(params BenchSample[] samples) => BenchReport.Json(new { when_utc = "x", samples });
        var first = Document(Round("curl", 2.0, 1), Round("engine", 1.0, 1), Round("curl", 2.0, 2), Round("engine", 2.0, 2),
                             Run("engine", "inc", 9.0)); // a table run: not pooled
        var second = Document(Round("curl", 3.0, 1), Round("engine", 2.0, 1));

        var pooled = BenchReport.PoolHeadToHeadRounds([first, second]);

        Assert.Equal([1, 1, 2, 2, 3, 3], pooled.Select(s => s.Repetition).Order());
        Assert.All(pooled, s => Assert.True(s.HeadToHead));
        Assert.Equal(2.0, pooled.Single(s => s.Client == "curl" && s.Repetition == 1).Cost.WallSeconds, 9); // read back whole
        var engine = BenchReport.HeadToHead(pooled, "inc")!.For("engine")!;
        Assert.Equal(3, engine.Pairs);
        Assert.Equal(1.5, engine.PairedMedian, 9); // rounds 2.0, 1.0 and 1.5: the second run's round stays its own
    }

    [Fact]
    public void A_warm_engine_run_that_printed_no_clock_voids_the_phase()
    {
        var headToHead = BenchReport.HeadToHead(
            [Round("curl", 3.0, 1), Round("engine", 3.0, 1), Round("engine-warm", 9.0, 1)], "inc")!;

        Assert.Empty(headToHead.Comparisons);
        Assert.Equal("engine-warm #1: no clock of its own in its output", headToHead.Void);
    }

    [Fact]
    public void Without_a_head_to_head_the_summary_keeps_the_tables_ratio_and_prints_no_head_to_head_line()
    {
        var rows = BenchReport.Rows([Run("curl", "inc", 2.0), Run("engine", "inc", 2.5)],
                                    [Dataset("inc", "incompressible", GiB)], "curl-p16");

        var summary = BenchReport.Summarize(rows, bufferMiB: 64, BenchReport.HeadToHead([], "inc"));

        Assert.Equal(0.8, summary.XetPsOverCurl!.Value, 9);
        Assert.Null(BenchReport.HeadToHeadLine(summary));
    }

    [Fact]
    public void Paired_ratio_is_absent_when_a_repetition_has_no_curl_run()
    {
        var rows = BenchReport.Rows(
            [Run("curl", "inc", 1.0, rep: 1), Run("engine", "inc", 1.2, rep: 1), Run("engine", "inc", 1.1, rep: 2)],
            [Dataset("inc", "incompressible", GiB)], "curl-p16");

        Assert.Null(rows.Single(r => r.Client == "engine").PairedSpeedVsCurl);
    }

    [Fact]
    public void Cmdlet_layer_in_process_ratio_leaves_start_up_out_and_needs_every_run_to_report_its_clock()
    {
        var sets = new[] { Dataset("inc", "incompressible", GiB), Dataset("flt", "float", GiB) };
        BenchSample Timed(string client, string set, double wall, double? inProcess, int rep = 1) =>
            Run(client, set, wall, rep: rep) with { InProcessSeconds = inProcess };
        var rows = BenchReport.Rows(
        [
            Timed("engine", "inc", 2.2, 2.0), Timed("cmdlet", "inc", 2.8, 2.06),          // 0.6 s of PowerShell start-up
            Timed("engine", "flt", 1.2, 1.0), Timed("cmdlet", "flt", 1.8, 1.02),
            Timed("cmdlet", "flt", 1.8, null, rep: 2),                                    // one run without a clock
            Timed("cmdlet-pwsh", "inc", 3.3, 2.2), Timed("cmdlet-pwsh", "flt", 2.1, 1.05), // real pwsh starts slower
        ], sets, "curl-p16");

        var summary = BenchReport.Summarize(rows, bufferMiB: 64);

        Assert.Null(rows.Single(r => r.Client == "cmdlet" && r.Dataset == "flt").MedianInProcessSeconds);
        Assert.Equal(1.5, summary.CmdletOverEngine!.Value, 9);                  // wall: flt 1.8/1.2
        Assert.Equal(1.03, summary.CmdletOverEngineInProcess!.Value, 9);        // only inc has clocks on both sides
        Assert.Equal("inc", summary.CmdletOverEngineInProcessDataset);
        Assert.Contains("in-process=1.03 (inc", BenchReport.CmdletLine(summary));
        // Real pwsh beside it, never in the summary's cmdlet/engine: wall flt 2.1/1.2, in-process inc 2.2/2.0.
        Assert.Equal(1.75, summary.PwshOverEngine!.Value, 9);
        Assert.Equal(1.1, summary.PwshOverEngineInProcess!.Value, 9);
        Assert.EndsWith("in pwsh: wall=1.75 (flt), in-process=1.10 (inc)", BenchReport.CmdletLine(summary));
    }

    [Theory]
    [InlineData("{\"files\":1,\"bytes\":67108864,\"seconds\":0.658}\n", 0.658)]
    [InlineData("noise\n{\"seconds\":12}\n{\"seconds\":3.5}\n", 3.5)]
    [InlineData("no clock here\n", null)]
    public void A_clients_own_clock_is_the_last_seconds_it_prints(string output, double? expected)
    {
        Assert.Equal(expected, BenchReport.InProcessSeconds(output));
    }

    [Fact]
    public void Summary_reports_the_worst_hfjs_and_cmdlet_ratios_and_the_largest_rss_over_the_buffer()
    {
        var sets = new[] { Dataset("inc", "incompressible", GiB), Dataset("flt", "float", GiB) };
        var rows = BenchReport.Rows(
        [
            Run("curl", "inc", 1.0), Run("engine", "inc", 2.0, rssMiB: 200), Run("cmdlet", "inc", 2.2), Run("hfjs", "inc", 3.0),
            Run("engine", "flt", 1.0, rssMiB: 300), Run("cmdlet", "flt", 1.0), Run("hfjs", "flt", 4.0),
        ], sets, "curl-p16");

        var summary = BenchReport.Summarize(rows, bufferMiB: 64);

        Assert.Equal(0.5, summary.XetPsOverCurl!.Value, 9);
        Assert.Equal(1.5, summary.XetPsOverHfjs!.Value, 9);          // inc (3/2) is worse than flt (4/1)
        Assert.Equal("inc", summary.XetPsOverHfjsDataset);
        Assert.Equal(1.1, summary.CmdletOverEngine!.Value, 9);        // inc (2.2/2) is worse than flt (1/1)
        Assert.Equal(300 - 64, summary.PeakRssOverBufferMiB!.Value, 9);
        Assert.Equal("summary: xetps/curl=0.50 xetps/hfjs=1.50 cmdlet/engine=1.10 peak_rss_over_buffer_mib=236",
                     BenchReport.SummaryLine(summary));
    }

    [Fact]
    public void The_engine_at_its_defaults_is_reported_beside_the_summary_and_changes_none_of_its_figures()
    {
        var sets = new[] { Dataset("inc", "incompressible", GiB) };
        var rows = BenchReport.Rows(
        [
            Run("curl", "inc", 2.0), Run("engine", "inc", 2.5, rssMiB: 150), Run("engine-default", "inc", 1.6, rssMiB: 700),
        ], sets, "curl-p16");

        var summary = BenchReport.Summarize(rows, bufferMiB: 64);

        Assert.Equal(2.0 / 2.5, summary.XetPsOverCurl!.Value, 9);     // the 64 MiB engine, as before
        Assert.Equal(2.0 / 1.6, summary.XetPsDefaultsOverCurl!.Value, 9);
        Assert.Equal(150 - 64, summary.PeakRssOverBufferMiB!.Value, 9); // the 512 MiB run is not held to the 64 MiB budget
        Assert.EndsWith("engine at its defaults (512 MiB buffer) / curl=1.25", BenchReport.TransferLimitLine(summary));
    }

    [Fact]
    public void Scaling_fit_separates_the_fixed_cost_per_run_from_the_cost_per_GiB()
    {
        var sizes = new[] { GiB / 4, GiB, 4 * GiB };
        var sets = sizes.Select(s => Dataset("s" + s, "scaling", s)).ToArray();
        // wall = 1.5 s + 3 s/GiB exactly
        var samples = sizes.Select(s => Run("engine", "s" + s, 1.5 + 3.0 * s / GiB)).ToArray();

        var summary = BenchReport.Summarize(BenchReport.Rows(samples, sets, "curl-p16"), bufferMiB: 64);

        Assert.Equal(1.5, summary.ScalingFixedSeconds!.Value, 9);
        Assert.Equal(3.0, summary.ScalingMarginalSecondsPerGib!.Value, 9);
        Assert.True(summary.ScalingSecondsPerGibSpreadPercent > 15); // s/GiB is not flat: 9.0 at 256 MiB, 3.375 at 4 GiB
    }

    [Fact]
    public void Scaling_line_puts_curls_own_spread_and_the_engines_clock_beside_the_target()
    {
        var sizes = new[] { GiB / 4, GiB, 4 * GiB };
        var sets = sizes.Select(s => Dataset("s" + s, "scaling", s)).ToArray();
        // The engine: 0.5 s of process start, then its own clock reads exactly 1 s/GiB. curl: 2 s/GiB, then 1 s/GiB.
        var samples = sizes.Select(s => Run("engine", "s" + s, 0.5 + 1.0 * s / GiB) with { InProcessSeconds = 1.0 * s / GiB })
            .Concat(sizes.Select(s => Run("curl", "s" + s, (s == GiB / 4 ? 2.0 : 1.0) * s / GiB)))
            .ToArray();

        var summary = BenchReport.Summarize(BenchReport.Rows(samples, sets, "curl-p16"), bufferMiB: 64);

        Assert.Equal((3.0 - 1.125) / 1.125 * 100, summary.ScalingSecondsPerGibSpreadPercent!.Value, 9); // 3.0 at 256 MiB, 1.125 at 4 GiB
        Assert.Equal(100.0, summary.ScalingCurlSpreadPercent!.Value, 9);
        Assert.Equal(0.0, summary.ScalingInProcessSpreadPercent!.Value, 9);
        // Against curl per member: 256 MiB 0.5/0.75, 1 GiB 1.0/1.5, 4 GiB 4.0/4.5.
        Assert.Equal(0.5 / 0.75, summary.ScalingSpeedVsCurlLow!.Value, 9);
        Assert.Equal(4.0 / 4.5, summary.ScalingSpeedVsCurlHigh!.Value, 9);
        Assert.Equal("scaling: engine s/GiB spread across the series = 166.7% (target <= 15%); curl's own = 100.0%; engine in process = 0.0%; engine in a warm process = n/a; fit wall = 0.50 s + 1.00 s/GiB; engine/curl speed per member = 0.67-0.89",
            BenchReport.ScalingLine(summary));
    }

    [Fact]
    public void The_warm_engines_scaling_rows_are_timed_by_its_own_clock_and_give_the_engines_own_spread()
    {
        var sizes = new[] { GiB / 4, GiB, 4 * GiB };
        var sets = sizes.Select(s => Dataset("s" + s, "scaling", s)).ToArray();
        // The fresh engine: 0.5 s of start, then 1 s/GiB. The warm one: its process ran three downloads (14 s of wall
        // time at 4 GiB), and its own clock reads the last: 1.0, 1.0 and 1.1 s/GiB.
        var warmPerGib = new Dictionary<long, double> { [GiB / 4] = 1.0, [GiB] = 1.0, [4 * GiB] = 1.1 };
        var samples = sizes.Select(s => Run("engine", "s" + s, 0.5 + 1.0 * s / GiB))
            .Concat(sizes.Select(s => Run("engine-warm", "s" + s, 3.5 * s / GiB) with { InProcessSeconds = warmPerGib[s] * s / GiB }))
            .Concat(sizes.Select(s => Run("curl", "s" + s, 1.0 * s / GiB)))
            .ToArray();

        var rows = BenchReport.Rows(samples, sets, "curl-p16");
        var summary = BenchReport.Summarize(rows, bufferMiB: 64);

        var warm4g = rows.Single(r => r.Client == "engine-warm" && r.FileBytes == 4 * GiB);
        Assert.Equal(4.4, warm4g.MedianWallSeconds, 9);   // its own clock, not the process's 14 s
        Assert.Equal(1.1, warm4g.SecondsPerGib, 9);
        Assert.Equal(4.0 / 4.4, warm4g.SpeedVsCurl!.Value, 9);
        Assert.Equal(10.0, summary.ScalingWarmSpreadPercent!.Value, 9);
        // The target's figure stays the fresh process's: 3.0 s/GiB at 256 MiB, 1.125 at 4 GiB.
        Assert.Equal((3.0 - 1.125) / 1.125 * 100, summary.ScalingSecondsPerGibSpreadPercent!.Value, 9);
        Assert.Contains("engine in a warm process = 10.0%;", BenchReport.ScalingLine(summary));
    }

    [Fact]
    public void A_warm_engine_run_that_printed_no_time_of_its_own_voids_its_row_and_the_warm_spread()
    {
        var sizes = new[] { GiB / 4, GiB };
        var sets = sizes.Select(s => Dataset("s" + s, "scaling", s)).ToArray();
        var samples = new[]
        {
            Run("engine", "s" + GiB / 4, 1.0), Run("engine", "s" + GiB, 2.0),
            Run("engine-warm", "s" + GiB / 4, 3.0) with { InProcessSeconds = 0.3 },
            Run("engine-warm", "s" + GiB, 6.0), // no "seconds" in its output
        };

        var rows = BenchReport.Rows(samples, sets, "curl-p16");
        var summary = BenchReport.Summarize(rows, bufferMiB: 64);

        Assert.Equal("printed no time of its own", rows.Single(r => r.Client == "engine-warm" && r.FileBytes == GiB).Void);
        Assert.Null(summary.ScalingWarmSpreadPercent);
        Assert.Contains("engine in a warm process = n/a;", BenchReport.ScalingLine(summary));
    }

    [Fact]
    public void Scaling_spread_on_the_engines_clock_needs_every_member_to_report_it()
    {
        var sizes = new[] { GiB / 4, GiB };
        var sets = sizes.Select(s => Dataset("s" + s, "scaling", s)).ToArray();
        var samples = new[]
        {
            Run("engine", "s" + GiB / 4, 1.0) with { InProcessSeconds = 0.5 },
            Run("engine", "s" + GiB, 2.0), // printed no clock
        };

        var summary = BenchReport.Summarize(BenchReport.Rows(samples, sets, "curl-p16"), bufferMiB: 64);

        Assert.NotNull(summary.ScalingSecondsPerGibSpreadPercent);
        Assert.Null(summary.ScalingInProcessSpreadPercent);
        Assert.Null(summary.ScalingCurlSpreadPercent);
        Assert.Contains("curl's own = n/a; engine in process = n/a", BenchReport.ScalingLine(summary));
        Assert.EndsWith("engine/curl speed per member = n/a", BenchReport.ScalingLine(summary)); // no curl beside it
    }

    [Fact]
    public void GNU_time_output_is_read_from_its_last_line_after_an_exit_status_note()
    {
        var cost = MeasuredProcess.ParseTimeOutput("Command exited with non-zero status 1\n12.34 204800 3.50 1.25\n", "curl");

        Assert.Equal(12.34, cost.WallSeconds, 9);
        Assert.Equal(204800L * 1024, cost.PeakRssBytes);
        Assert.Equal(4.75, cost.CpuSeconds, 9);
    }

    [Fact]
    public void Unreadable_GNU_time_output_is_a_format_error_naming_the_client()
    {
        var error = Assert.Throws<FormatException>(() => MeasuredProcess.ParseTimeOutput("bash: foo: not found\n", "hfjs"));
        Assert.Contains("hfjs", error.Message);
    }
}
