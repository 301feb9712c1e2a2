using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using XetPs.Bench.SideBySide;

namespace XetPs.Bench.Nightly;

/// <summary>
/// One measured download of a revision into a folder holding the base file as the client left it: its wall time, the
/// bytes the emulator sent meanwhile (every route) and over how many requests; for XetPs the bytes it read from the
/// old copy instead; for the cmdlet the seconds of its own stopwatch around the pipeline.
/// </summary>
public sealed record NightlySample(string Variant, string Client, int Rep, double WallSeconds, long BytesFetched, int Requests,
    long? BytesReused = null, double? OwnSeconds = null);

/// <summary>The medians of one client on one revision (wall time also as its range).</summary>
public sealed record NightlyRow(string Variant, string Client, int Runs, long BytesFetched, int Requests, long? BytesReused,
    double WallSeconds, double WallMin, double WallMax, double? OwnSeconds);

/// <summary>
/// The nightly benchmark's figures: medians per client and revision, the table and the summary line. Pure functions of
/// the samples, so they are specified apart from the run.
/// </summary>
public static class NightlyReport
{
    /// <summary>One row per revision and client that has samples, revisions and clients in the order given.</summary>
    public static IReadOnlyList<NightlyRow> Rows(IReadOnlyList<NightlySample> samples, IReadOnlyList<string> variants, IReadOnlyList<string> clients)
    {
        var rows = new List<NightlyRow>();
        foreach (var variant in variants)
            foreach (var client in clients)
            {
                var runs = samples.Where(s => s.Variant == variant && s.Client == client).ToList();
                if (runs.Count == 0) continue;
                var reused = runs.Where(s => s.BytesReused is not null).Select(s => (double)s.BytesReused!.Value).ToList();
                var own = runs.Where(s => s.OwnSeconds is not null).Select(s => s.OwnSeconds!.Value).ToList();
                rows.Add(new NightlyRow(variant, client, runs.Count,
                    (long)Math.Round(BenchReport.MedianOf(runs.Select(s => (double)s.BytesFetched))),
                    (int)Math.Round(BenchReport.MedianOf(runs.Select(s => (double)s.Requests))),
                    reused.Count == 0 ? null : (long)Math.Round(BenchReport.MedianOf(reused)),
                    BenchReport.MedianOf(runs.Select(s => s.WallSeconds)), runs.Min(s => s.WallSeconds), runs.Max(s => s.WallSeconds),
                    own.Count == 0 ? null : BenchReport.MedianOf(own)));
            }
        return rows;
    }

    /// <summary>The markdown table; <paramref name="revisedSizes"/> gives each revision's size, for the fetched share.</summary>
    public static string Table(IReadOnlyList<NightlyRow> rows, IReadOnlyDictionary<string, long> revisedSizes)
    {
        var text = new StringBuilder();
        text.AppendLine("| revision | client | runs | fetched MiB | fetched / file | requests | reused MiB | wall s | wall s (min-max) | own clock s |");
        text.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var r in rows)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Variant} | {r.Client} | {r.Runs} | {MiB(r.BytesFetched)} | {(double)r.BytesFetched / revisedSizes[r.Variant]:F3} | {r.Requests} | " +
                $"{(r.BytesReused is { } reused ? MiB(reused) : "")} | {r.WallSeconds:F2} | {r.WallMin:F2}-{r.WallMax:F2} | {(r.OwnSeconds is { } own ? own.ToString("F2", CultureInfo.InvariantCulture) : "")} |"));
        return text.ToString();
    }

    /// <summary>
    /// <c>nightly: variant=append size=512MiB xetps_fetched=16.2MiB hfjs_fetched=528.0MiB curl_fetched=528.0MiB
    /// xetps/hfjs_time=0.25 xetps/curl_time=0.60</c>: medians; a time ratio is XetPs's wall time over the other client's
    /// (below 1: XetPs is faster); n/a for a client with no valid run.
    /// </summary>
    public static string SummaryLine(string variant, long sizeMiB, IReadOnlyList<NightlyRow> rows)
    {
        NightlyRow? Of(string client) => rows.FirstOrDefault(r => r.Variant == variant && r.Client == client);
        string Fetched(string client) => Of(client) is { } row ? MiB(row.BytesFetched) + "MiB" : "n/a";
        string TimeRatio(string other) => (Of("xetps"), Of(other)) is ({ } x, { } o) && o.WallSeconds > 0
            ? (x.WallSeconds / o.WallSeconds).ToString("F2", CultureInfo.InvariantCulture)
            : "n/a";
        return string.Create(CultureInfo.InvariantCulture,
            $"nightly: variant={variant} size={sizeMiB}MiB xetps_fetched={Fetched("xetps")} hfjs_fetched={Fetched("hfjs")} curl_fetched={Fetched("curl")} " +
            $"xetps/hfjs_time={TimeRatio("hfjs")} xetps/curl_time={TimeRatio("curl")}");
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);
}
