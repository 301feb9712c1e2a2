using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace XetPs.Bench.SideBySide;

/// <summary>One look at the soak's client: seconds since it started, its resident set, and the bytes it has written to
/// files (the kernel's <c>write_bytes</c>: page-cache and direct writes alike; pipes, sockets and eventfds excluded).</summary>
public sealed record SoakSample(double Seconds, long RssBytes, long WrittenBytes);

/// <summary>
/// A first run killed (SIGKILL, as a reboot or a killed scheduled task would end it) once it had written
/// <see cref="AtPercent"/> of the file: how far it got, whether the destination stayed untouched, what partial file it
/// left for the next run, and what that next run received from the network (the engine driver says; null otherwise).
/// </summary>
public sealed record SoakInterruption(double AtPercent, double Seconds, long WrittenBytes, bool DestinationUntouched,
                                      long PartialBytes, long? RerunReceivedBytes);

/// <summary>What the soak found, from the client's samples and its GNU time figures.</summary>
public sealed record SoakSummary(long FileBytes, string Client, long BufferBytes, double WallSeconds, long PeakRssBytes,
                                 double CpuSeconds, double LongestWritePauseSeconds, long SteadyRssMinBytes,
                                 long SteadyRssMedianBytes, long SteadyRssMaxBytes, IReadOnlyList<string> Timeline, string? Failure,
                                 SoakInterruption? Interruption = null)
{
    /// <summary>Issue 4's memory target: peak RSS at most the buffer plus 150 MiB.</summary>
    public const long RssAllowanceBytes = 150L << 20;

    public double PeakRssOverBufferMiB => (PeakRssBytes - BufferBytes) / BenchReport.MiB;

    public bool WithinMemoryTarget => PeakRssBytes <= BufferBytes + RssAllowanceBytes;
}

/// <summary>
/// The soak's figures. A stall (the reference client's failure at 48.5 GB) shows as a long stretch of samples in
/// which the client wrote nothing; memory that grows with the file shows as a steady-state RSS that climbs.
/// </summary>
public static class SoakReport
{
    /// <summary>
    /// The longest time in which the written byte count did not grow: from the sample at which it last grew (or the
    /// first sample) to the next sample at which it grew, or to the last sample.
    /// </summary>
    public static double LongestWritePause(IReadOnlyList<SoakSample> samples)
    {
        if (samples.Count < 2) return 0;
        double longest = 0, since = samples[0].Seconds;
        for (var i = 1; i < samples.Count; i++)
        {
            if (samples[i].WrittenBytes > samples[i - 1].WrittenBytes)
            {
                longest = Math.Max(longest, samples[i].Seconds - since);
                since = samples[i].Seconds;
            }
        }
        return Math.Max(longest, samples[^1].Seconds - since);
    }

    /// <summary>Min, median and max RSS once the client writes (its start-up excluded), or zeros without samples.</summary>
    public static (long Min, long Median, long Max) SteadyRss(IReadOnlyList<SoakSample> samples)
    {
        var steady = samples.Where(s => s.WrittenBytes > 0).Select(s => s.RssBytes).Order().ToList();
        return steady.Count == 0 ? (0, 0, 0) : (steady[0], steady[steady.Count / 2], steady[^1]);
    }

    /// <summary>When each tenth of the file had been written, and the RSS then: "10% 5.2 s 152 MiB".</summary>
    public static IReadOnlyList<string> Timeline(IReadOnlyList<SoakSample> samples, long fileBytes, int steps = 10)
    {
        var lines = new List<string>();
        var next = 0;
        for (var step = 1; step <= steps; step++)
        {
            var target = fileBytes * step / steps;
            while (next < samples.Count && samples[next].WrittenBytes < target) next++;
            if (next == samples.Count) break;
            var s = samples[next];
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{100 * step / steps}% {s.Seconds:F1} s {s.RssBytes / BenchReport.MiB:F0} MiB"));
        }
        return lines;
    }

    public static string Line(SoakSummary s)
    {
        var outcome = s.Failure is not null
            ? string.Create(CultureInfo.InvariantCulture, $"FAILED ({s.Failure}) after {s.WallSeconds:F1} s")
            : string.Create(CultureInfo.InvariantCulture, $"{s.WallSeconds:F1} s ({s.FileBytes / s.WallSeconds / 1e6:F0} MB/s), sha256 verified");
        return string.Create(CultureInfo.InvariantCulture,
            $"soak: {s.FileBytes / 1e9:F1} GB seed incident shape, {s.Client}, {s.BufferBytes / BenchReport.MiB:F0} MiB buffer: {outcome}; " +
            $"peak RSS {s.PeakRssBytes / BenchReport.MiB:F0} MiB = buffer + {s.PeakRssOverBufferMiB:F0} MiB (target <= 150: {(s.WithinMemoryTarget ? "met" : "missed")}); " +
            $"RSS while writing {s.SteadyRssMinBytes / BenchReport.MiB:F0}/{s.SteadyRssMedianBytes / BenchReport.MiB:F0}/{s.SteadyRssMaxBytes / BenchReport.MiB:F0} MiB (min/median/max); " +
            $"longest stretch without a written byte {s.LongestWritePauseSeconds:F1} s; CPU {s.CpuSeconds:F1} s{InterruptionText(s.Interruption)}");
    }

    private static string InterruptionText(SoakInterruption? i)
    {
        if (i is null) return "";
        var rerun = i.RerunReceivedBytes is long r
            ? string.Create(CultureInfo.InvariantCulture, $"the rerun above received {r / 1e9:F1} GB")
            : "the rerun above continued it";
        return string.Create(CultureInfo.InvariantCulture,
            $"; a first run killed at {i.AtPercent:F0}% ({i.WrittenBytes / 1e9:F1} GB written, {i.Seconds:F1} s) left the destination " +
            $"{(i.DestinationUntouched ? "untouched" : "CHANGED")} and a {i.PartialBytes / 1e9:F1} GB partial file; {rerun}");
    }
}
