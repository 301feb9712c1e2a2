using System.Collections.Generic;
using XetPs.Bench.SideBySide;

namespace XetPs.Tests.Bench;

/// <summary>
/// Specifications of the soak's report: a stall is a stretch without a written byte, steady memory is measured once
/// the client writes, the timeline marks each tenth of the file, and the line says whether the memory target held.
/// </summary>
public class SoakReportTests
{
    private const long MiB = 1L << 20;

    private static List<SoakSample> Samples(params (double Seconds, long RssMiB, long WrittenMiB)[] points)
    {
        var list = new List<SoakSample>();
        foreach (var (seconds, rss, written) in points) list.Add(new SoakSample(seconds, rss * MiB, written * MiB));
        return list;
    }

    [Fact]
    public void The_longest_write_pause_runs_from_the_last_growth_to_the_next()
    {
        var samples = Samples((0, 50, 0), (0.5, 60, 0), (1, 80, 10), (1.5, 80, 20), (2, 80, 20), (2.5, 80, 20), (3, 80, 20), (3.5, 80, 30), (4, 80, 40));

        // 20 MiB written at 1.5 s, nothing more until 3.5 s.
        Assert.Equal(2.0, SoakReport.LongestWritePause(samples), 6);
    }

    [Fact]
    public void A_client_that_stops_writing_for_good_pauses_until_its_last_sample()
    {
        var samples = Samples((0, 50, 0), (1, 80, 10), (2, 80, 10), (30, 80, 10));

        Assert.Equal(29.0, SoakReport.LongestWritePause(samples), 6);
    }

    [Fact]
    public void Steady_rss_leaves_out_the_start_up_before_the_first_written_byte()
    {
        var samples = Samples((0, 20, 0), (1, 40, 0), (2, 150, 5), (3, 160, 10), (4, 155, 20));

        var (min, median, max) = SoakReport.SteadyRss(samples);

        Assert.Equal((150 * MiB, 155 * MiB, 160 * MiB), (min, median, max));
    }

    [Fact]
    public void The_timeline_gives_the_first_sample_at_or_past_each_tenth_of_the_file()
    {
        var samples = Samples((0, 50, 0), (1, 100, 30), (2, 110, 60), (3, 120, 100));

        var timeline = SoakReport.Timeline(samples, 100 * MiB, steps: 4);

        Assert.Equal(["25% 1.0 s 100 MiB", "50% 2.0 s 110 MiB", "75% 3.0 s 120 MiB", "100% 3.0 s 120 MiB"], timeline);
    }

    [Fact]
    public void The_line_reports_the_memory_target_against_the_buffer()
    {
        var within = new SoakSummary(48_500_000_000, "engine", 64 * MiB, 100, (64 + 150) * MiB, 90, 0.5,
                                     150 * MiB, 160 * MiB, 170 * MiB, [], null);
        var over = within with { PeakRssBytes = (64 + 151) * MiB };
        var failed = within with { Failure = "exit 1: stalled" };

        Assert.Contains("48.5 GB seed incident shape, engine, 64 MiB buffer: 100.0 s (485 MB/s), sha256 verified", SoakReport.Line(within));
        Assert.Contains("buffer + 150 MiB (target <= 150: met)", SoakReport.Line(within));
        Assert.Contains("buffer + 151 MiB (target <= 150: missed)", SoakReport.Line(over));
        Assert.Contains("FAILED (exit 1: stalled) after 100.0 s", SoakReport.Line(failed));
        Assert.DoesNotContain("sha256 verified", SoakReport.Line(failed));
    }

    [Fact]
    public void The_line_tells_what_a_killed_first_run_left_and_what_the_rerun_fetched()
    {
        var summary = new SoakSummary(48_500_000_000, "engine", 64 * MiB, 50, 200 * MiB, 40, 0.5, 150 * MiB, 160 * MiB, 170 * MiB, [], null,
                                      new SoakInterruption(50, 37.5, 24_300_000_000, DestinationUntouched: true, 24_200_000_000, 24_400_000_000));
        var changed = summary with { Interruption = summary.Interruption! with { DestinationUntouched = false, RerunReceivedBytes = null } };

        Assert.EndsWith("; a first run killed at 50% (24.3 GB written, 37.5 s) left the destination untouched and a 24.2 GB partial file; " +
                        "the rerun above received 24.4 GB", SoakReport.Line(summary));
        Assert.Contains("left the destination CHANGED", SoakReport.Line(changed));
        Assert.EndsWith("the rerun above continued it", SoakReport.Line(changed));
    }
}
