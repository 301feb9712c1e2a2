using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace XetPs.Bench.SideBySide;

/// <summary>One run of one client on one data set. <see cref="Failure"/> set means the run is void (error or a wrong
/// byte); a void run voids its whole row, because a fast wrong answer is not a result.
/// <see cref="InProcessSeconds"/>: the time the client itself reports for its work, from just before it opens its
/// session (engine driver) or runs the pipeline (cmdlet, inside the already started PowerShell) to the last file
/// written; null for clients that report none. The process wall time minus it is start-up.
/// <see cref="HeadToHead"/>: a run of the head-to-head phase (engine and curl alone, see <see cref="BenchReport.HeadToHead"/>),
/// kept out of the table so that every row's runs were interleaved with the same clients.</summary>
public sealed record BenchSample(string Client, string Dataset, int Repetition, ProcessCost Cost, long FileBytes,
                                 string? Failure, double? InProcessSeconds = null, bool HeadToHead = false);

/// <summary>
/// The head-to-head phase on one data set: rounds of the engine (and the engine at its defaults, when it runs) and curl
/// alone, back to back. One comparison per client against curl, and the cmdlet's against the engine when it ran; Void
/// (and no comparison) when any run of the phase failed.
/// </summary>
public sealed record HeadToHeadResult(string Dataset, int Rounds, IReadOnlyList<HeadToHeadComparison> Comparisons, string? Void,
                                      IReadOnlyList<CmdletLayerComparison>? CmdletLayers = null)
{
    public HeadToHeadComparison? For(string client) => Comparisons.FirstOrDefault(c => c.Client == client);

    public CmdletLayerComparison? CmdletLayer(string client) => CmdletLayers?.FirstOrDefault(c => c.Client == client);
}

/// <summary>One client against curl in the head-to-head: PairedMedian is the median over rounds of wall(curl) /
/// wall(client) (above 1: the client is faster); CiLow..CiHigh its 95% bootstrap interval; each side's median wall
/// time beside it.</summary>
public sealed record HeadToHeadComparison(string Client, int Pairs, double PairedMedian, double CiLow, double CiHigh,
                                          double ClientMedianWallSeconds, double CurlMedianWallSeconds);

/// <summary>Save-XetFile against the engine in the head-to-head: PairedMedian is the median over rounds of
/// seconds(cmdlet) / seconds(engine), each by its own clock (PowerShell's and .NET's start-up left out, as in the
/// table's in-process figure), so above 1 is what the cmdlet layer costs (target &lt;= 1.05); CiLow..CiHigh its 95%
/// bootstrap interval; each side's median seconds beside it.</summary>
public sealed record CmdletLayerComparison(string Client, int Pairs, double PairedMedian, double CiLow, double CiHigh,
                                           double CmdletMedianSeconds, double EngineMedianSeconds);

/// <summary>Median and spread of one client on one data set, with its ratio against curl on the same data set.</summary>
public sealed record BenchRow(
    string Client, string Dataset, string Group, int Runs, long FileBytes,
    double MedianWallSeconds, double MinWallSeconds, double MaxWallSeconds, double SpreadPercent,
    double MegabytesPerSecond, double SecondsPerGib, double MedianPeakRssMib, double MaxPeakRssMib,
    double MedianCpuSeconds, double? SpeedVsCurl, double? SpeedVsCurlNull, double? SpeedVsCurlParallel, string? Void,
    double? MedianInProcessSeconds = null, double? PairedSpeedVsCurl = null);

/// <summary>
/// Turns samples into the table, the JSON file and the summary line. Ratios are speed ratios from the same run:
/// <c>a/b = wall(b) / wall(a)</c> on medians, so above 1 means a is faster. Nothing here reads a clock: every figure
/// comes from the samples, so a report can be rebuilt from its JSON.
/// </summary>
public static class BenchReport
{
    public const double MiB = 1024.0 * 1024.0;

    public static IReadOnlyList<BenchRow> Rows(IReadOnlyList<BenchSample> samples, IReadOnlyList<BenchDataset> datasets,
                                               string curlParallelName)
    {
        var rows = new List<BenchRow>();
        foreach (var dataset in datasets)
        {
            var byClient = samples.Where(s => s.Dataset == dataset.Name && !s.HeadToHead).GroupBy(s => s.Client).ToList();
            double? Median(string client)
            {
                var g = byClient.FirstOrDefault(x => x.Key == client);
                return g is null || g.Any(s => s.Failure is not null) ? null : MedianOf(g.Select(TimeOf));
            }
            var curl = Median("curl");
            var curlByRepetition = byClient.FirstOrDefault(x => x.Key == "curl") is { } curlRuns && curlRuns.All(r => r.Failure is null)
                ? WallByRepetition(curlRuns)
                : null;
            var curlNull = Median("curl-null");
            var curlParallel = Median(curlParallelName);
            foreach (var group in byClient)
            {
                var runs = group.ToList();
                // The warm engine's process also holds the downloads that warmed it: its row is timed by its own clock.
                var walls = runs.Select(TimeOf).ToList();
                var rss = runs.Select(s => s.Cost.PeakRssBytes / MiB).ToList();
                var wall = MedianOf(walls);
                var failure = runs.FirstOrDefault(s => s.Failure is not null)?.Failure
                    ?? (OwnClockClients.Contains(group.Key) && runs.Any(s => s.InProcessSeconds is not > 0)
                        ? "printed no time of its own" : null);
                rows.Add(new BenchRow(
                    group.Key, dataset.Name, dataset.Group, runs.Count, dataset.TotalBytes,
                    wall, walls.Min(), walls.Max(), wall > 0 ? (walls.Max() - walls.Min()) / wall * 100 : 0,
                    wall > 0 ? dataset.TotalBytes / wall / 1e6 : 0,
                    wall / (dataset.TotalBytes / (1024.0 * MiB)),
                    MedianOf(rss), rss.Max(), MedianOf(runs.Select(s => s.Cost.CpuSeconds)),
                    curl is null || wall <= 0 ? null : curl / wall,
                    curlNull is null || wall <= 0 ? null : curlNull / wall,
                    curlParallel is null || wall <= 0 ? null : curlParallel / wall,
                    failure,
                    runs.All(s => s.InProcessSeconds is not null) ? MedianOf(runs.Select(s => s.InProcessSeconds!.Value)) : null,
                    Paired(curlByRepetition, runs)));
            }
        }
        return rows;
    }

    /// <summary>
    /// The median over repetitions of wall(curl) / wall(client) within the same repetition: the two ran one after the
    /// other, so a slow stretch of this shared machine that spans both cancels out, where the ratio of the two
    /// medians (SpeedVsCurl) can pair a fast curl run with a slow client run. Null without a curl run in some
    /// repetition, or when a run failed.
    /// </summary>
    private static double? Paired(IReadOnlyDictionary<int, double>? curlByRepetition, IReadOnlyList<BenchSample> runs)
    {
        if (curlByRepetition is null || runs.Any(r => r.Failure is not null || r.Cost.WallSeconds <= 0)) return null;
        if (runs.Any(r => !curlByRepetition.ContainsKey(r.Repetition))) return null;
        var ratios = CurlOverClient(curlByRepetition, runs);
        return ratios.Length == 0 ? null : MedianOf(ratios);
    }

    /// <summary>Each repetition's time (the first run of it, when a client ran twice in one); see <see cref="TimeOf"/>.</summary>
    private static Dictionary<int, double> WallByRepetition(IEnumerable<BenchSample> runs) =>
        runs.GroupBy(r => r.Repetition).ToDictionary(g => g.Key, g => TimeOf(g.First()));

    /// <summary>The time a run counts for: the process's wall time, or the client's own clock for the
    /// <see cref="OwnClockClients"/> (checked to be there before the head-to-head pairs anything).</summary>
    private static double TimeOf(BenchSample run) =>
        OwnClockClients.Contains(run.Client) ? run.InProcessSeconds ?? 0 : run.Cost.WallSeconds;

    /// <summary>wall(curl) / wall(client) for each repetition of <paramref name="runs"/>; every one must have curl's.</summary>
    private static double[] CurlOverClient(IReadOnlyDictionary<int, double> curlByRepetition, IEnumerable<BenchSample> runs) =>
        WallByRepetition(runs).Select(r => curlByRepetition[r.Key] / r.Value).ToArray();

    /// <summary>The head-to-head clients compared with the engine rather than with curl: the cmdlet begun as soon as
    /// PowerShell has started, and begun as at a prompt, once PowerShell's start-up has settled (the target's figure:
    /// a user at a prompt has paid PowerShell's start-up; a script that starts pwsh pays it, and the table's wall time
    /// shows it).</summary>
    public static readonly IReadOnlyList<string> CmdletClients = ["cmdlet", PromptCmdletClient];

    public const string PromptCmdletClient = "cmdlet-prompt";

    /// <summary>How long "cmdlet-prompt" waits after PowerShell started before its clock and its download. Why: a
    /// PowerShell that has just started goes on compiling its own start-up code to its next tier for about four
    /// seconds; a 2 GiB download begun at once used 2.34-2.64 CPU-s in the process, begun 4 s later 2.16-2.26
    /// (2026-12-04, tools/ps, four and five runs), so the "at once" figure holds a share of PowerShell's start-up,
    /// which a user typing at a prompt has already paid.</summary>
    public const int PromptPauseSeconds = 5;

    /// <summary>The clients of the head-to-head phase, curl first: each other one but the cmdlets is compared with it. The summary's
    /// xetps/curl is the engine's comparison; the engine at its defaults is what a user gets without settings; the
    /// engine in a warm process is what a session pays once the runtime has compiled its code (a PowerShell session
    /// after its first large file), which a fresh process per run never shows.
    /// The cmdlets run in the same rounds for a different comparison: against the engine of their round, by both
    /// clocks (<see cref="CmdletLayerComparison"/>). Why there: the table's five runs a side spread ±10-20%, so its
    /// in-process cmdlet/engine moved between 0.98 and 1.17 from run to run with no code changed, and a 5% target
    /// needs pairs.</summary>
    public static readonly IReadOnlyList<string> HeadToHeadClients = ["curl", "engine", "engine-default", "engine-warm", .. CmdletClients];


    /// <summary>Head-to-head clients timed by their own clock (their last "seconds"), not by the process's wall time:
    /// the warm engine's process also holds the downloads that warmed it.</summary>
    public static readonly IReadOnlyList<string> OwnClockClients = ["engine-warm"];

    /// <summary>
    /// Reads the head-to-head phase of <paramref name="dataset"/>: why it exists is that a target of 1.00 on a machine
    /// whose runs vary by ±15% cannot be judged from five runs a side. Its many rounds, each the clients back to back,
    /// give for each client the median of its ratios to curl within a round and a 95% bootstrap interval (resampling
    /// the rounds; a fixed seed, so the same samples always give the same report). Null when the run has none.
    /// </summary>
    public static HeadToHeadResult? HeadToHead(IReadOnlyList<BenchSample> samples, string dataset)
    {
        var runs = samples.Where(s => s.HeadToHead && s.Dataset == dataset).ToList();
        if (runs.Count == 0) return null;
        var rounds = runs.Select(r => r.Repetition).Distinct().Count();
        var failure = runs.FirstOrDefault(r => r.Failure is not null);
        if (failure is not null)
            return new HeadToHeadResult(dataset, rounds, [], $"{failure.Client} #{failure.Repetition}: {failure.Failure}");
        var withCmdlet = runs.Any(r => CmdletClients.Contains(r.Client));
        var unclocked = runs.FirstOrDefault(r => (OwnClockClients.Contains(r.Client) || CmdletClients.Contains(r.Client) || (withCmdlet && r.Client == "engine"))
                                                 && r.InProcessSeconds is not > 0);
        if (unclocked is not null)
            return new HeadToHeadResult(dataset, rounds, [], $"{unclocked.Client} #{unclocked.Repetition}: no clock of its own in its output");
        var curl = WallByRepetition(runs.Where(r => r.Client == HeadToHeadClients[0]));
        var comparisons = new List<HeadToHeadComparison>();
        foreach (var client in HeadToHeadClients.Skip(1).Where(c => !CmdletClients.Contains(c)))
        {
            var paired = runs.Where(r => r.Client == client && TimeOf(r) > 0 && curl.ContainsKey(r.Repetition)).ToList();
            if (paired.Count == 0) continue;
            var ratios = CurlOverClient(curl, paired);
            var walls = WallByRepetition(paired);
            var (low, high) = BootstrapMedianInterval(ratios);
            comparisons.Add(new HeadToHeadComparison(client, ratios.Length, MedianOf(ratios), low, high,
                                                     MedianOf(walls.Values), MedianOf(walls.Keys.Select(k => curl[k]))));
        }
        return comparisons.Count == 0
            ? new HeadToHeadResult(dataset, rounds, [], "no round with curl and a client beside it")
            : new HeadToHeadResult(dataset, rounds, comparisons, null,
                                   [.. CmdletClients.Select(c => CmdletLayer(runs, c)).OfType<CmdletLayerComparison>()]);
    }

    /// <summary>seconds(client) / seconds(engine) for each round that ran both, by their own clocks; null if none did.</summary>
    private static CmdletLayerComparison? CmdletLayer(IReadOnlyList<BenchSample> runs, string client)
    {
        static Dictionary<int, double> OwnClockByRound(IEnumerable<BenchSample> clientRuns) =>
            clientRuns.GroupBy(r => r.Repetition).ToDictionary(g => g.Key, g => g.First().InProcessSeconds!.Value);
        if (!runs.Any(r => r.Client == client)) return null;
        var engine = OwnClockByRound(runs.Where(r => r.Client == "engine"));
        var cmdlet = OwnClockByRound(runs.Where(r => r.Client == client && engine.ContainsKey(r.Repetition)));
        if (cmdlet.Count == 0) return null;
        var ratios = cmdlet.Select(p => p.Value / engine[p.Key]).ToArray();
        var (low, high) = BootstrapMedianInterval(ratios);
        return new CmdletLayerComparison(client, ratios.Length, MedianOf(ratios), low, high,
                                         MedianOf(cmdlet.Values), MedianOf(cmdlet.Keys.Select(k => engine[k])));
    }

    /// <summary>
    /// The head-to-head runs of several results documents (bench/run's JSON) as one phase: each document's rounds are
    /// numbered on after the previous one's, so a pair never spans two runs. Why: one run's interval holds that run's
    /// machine (the engine's paired median against curl was 1.00, 1.03, 1.12 and 0.96 in four full runs of one day);
    /// the rounds of several runs together say more about the engine than any one of them.
    /// </summary>
    public static IReadOnlyList<BenchSample> PoolHeadToHeadRounds(IEnumerable<string> jsonDocuments)
    {
        var pooled = new List<BenchSample>();
        var offset = 0;
        foreach (var json in jsonDocuments)
        {
            using var document = JsonDocument.Parse(json);
            var runs = (document.RootElement.GetProperty("samples").Deserialize<List<BenchSample>>(JsonOptions) ?? [])
                .Where(s => s.HeadToHead).ToList();
            pooled.AddRange(runs.Select(s => s with { Repetition = offset + s.Repetition }));
            offset += runs.Count == 0 ? 0 : runs.Max(s => s.Repetition);
        }
        return pooled;
    }

    /// <summary>The order of the clients in head-to-head round <paramref name="round"/> (from 1): rotated by one each
    /// round, so that over as many rounds as clients each runs first, second, ... once, and no client always inherits
    /// the same other one's leftovers (its page cache, its sockets in TIME_WAIT, the emulator's warm state).</summary>
    public static IReadOnlyList<T> HeadToHeadRoundOrder<T>(IReadOnlyList<T> clients, int round)
    {
        var shift = round % clients.Count;
        return [.. clients.Skip(shift), .. clients.Take(shift)];
    }

    /// <summary>The 2.5th and 97.5th percentiles of the median over 2,000 resamples (with replacement) of
    /// <paramref name="values"/>; the same values always give the same interval.</summary>
    public static (double Low, double High) BootstrapMedianInterval(IReadOnlyList<double> values)
    {
        const int resamples = 2000;
        var random = new Random(6);
        var medians = new double[resamples];
        var draw = new double[values.Count];
        for (var i = 0; i < resamples; i++)
        {
            for (var j = 0; j < draw.Length; j++) draw[j] = values[random.Next(values.Count)];
            medians[i] = MedianOf(draw);
        }
        Array.Sort(medians);
        return (medians[(int)(resamples * 0.025)], medians[(int)(resamples * 0.975) - 1]);
    }

    /// <summary>The seconds a client reports for its own work, as the last <c>"seconds":N</c> on its output (the engine
    /// driver's result line; the cmdlet script prints the same from a stopwatch around its pipeline); null if none.</summary>
    public static double? InProcessSeconds(string standardOutput)
    {
        var matches = System.Text.RegularExpressions.Regex.Matches(standardOutput, "\"seconds\":\\s*([0-9]+(?:\\.[0-9]+)?)");
        return matches.Count == 0 ? null : double.Parse(matches[matches.Count - 1].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) throw new ArgumentException("no values", nameof(values));
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public static string Markdown(IReadOnlyList<BenchRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| data set | client | runs | MB/s | wall s (median) | spread | s/GiB | peak RSS MiB | CPU s | in-process s | vs curl | vs curl-null | vs curl-par |");
        sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var r in rows)
        {
            if (r.Void is not null)
            {
                sb.AppendLine(Inv($"| {r.Dataset} | {r.Client} | {r.Runs} | VOID: {r.Void.Replace('|', '/').Replace('\n', ' ')} | | | | | | | | | |"));
                continue;
            }
            sb.AppendLine(Inv($"| {r.Dataset} | {r.Client} | {r.Runs} | {r.MegabytesPerSecond:F1} | {r.MedianWallSeconds:F2} | ±{r.SpreadPercent / 2:F0}% | {r.SecondsPerGib:F2} | {r.MedianPeakRssMib:F0} | {r.MedianCpuSeconds:F2} | {(r.MedianInProcessSeconds is { } ip ? ip.ToString("F2", CultureInfo.InvariantCulture) : "")} | {Ratio(r.SpeedVsCurl)} | {Ratio(r.SpeedVsCurlNull)} | {Ratio(r.SpeedVsCurlParallel)} |"));
        }
        return sb.ToString();
    }

    /// <summary>The figures the targets are stated in, each from the same run.</summary>
    public sealed record Summary(
        double? XetPsOverCurl, string? XetPsOverCurlDataset, double? XetPsOverCurlNull, double? XetPsOverCurlParallel,
        double? XetPsOverHfjs, string? XetPsOverHfjsDataset,
        double? CmdletOverEngine, string? CmdletOverEngineDataset,
        double? CmdletOverEngineInProcess, string? CmdletOverEngineInProcessDataset,
        double? PeakRssOverBufferMiB, string? PeakRssOverBufferDataset,
        double? ScalingSecondsPerGibSpreadPercent, double? ScalingFixedSeconds, double? ScalingMarginalSecondsPerGib,
        double? SeedBuf64OverBuf2g, double? XetPsDefaultsOverCurl = null,
        double? ScalingCurlSpreadPercent = null, double? ScalingInProcessSpreadPercent = null,
        double? PwshOverEngine = null, string? PwshOverEngineDataset = null,
        double? PwshOverEngineInProcess = null, string? PwshOverEngineInProcessDataset = null,
        double? XetPsOverCurlPaired = null, double? XetPsOverCurlTable = null, HeadToHeadResult? HeadToHead = null,
        double? ScalingSpeedVsCurlLow = null, double? ScalingSpeedVsCurlHigh = null, double? ScalingWarmSpreadPercent = null);

    /// <summary>
    /// xetps/curl: the engine against curl single stream writing the ranges to files, on the incompressible data set:
    /// the head-to-head phase's median of paired ratios when the run has one (its void leaves the figure n/a), else
    /// the table's ratio of medians (kept beside it either way, as XetPsOverCurlTable, with the table's paired figure;
    /// curl-null, the same without writing, and curl-parallel are kept beside it as the pure transfer limit). xetps/hfjs: the worst (lowest)
    /// engine-over-hfjs speed ratio among the large single-file data sets (incompressible, float, seed shape).
    /// cmdlet/engine: the worst (highest) ratio of the cmdlet's wall time to the engine's on the same data sets (target &lt;= 1.05). peak_rss_over_buffer: the largest engine peak
    /// RSS minus its buffer over every data set. Scaling: (max - min) / min of s/GiB across the scaling series, for the
    /// engine's wall time (the target), and beside it for curl's wall time and the engine's own clock: how much of the
    /// spread is this machine and every process's start, and how much is the engine.
    /// </summary>
    public static Summary Summarize(IReadOnlyList<BenchRow> rows, double bufferMiB, HeadToHeadResult? headToHead = null)
    {
        BenchRow? Row(string client, string dataset) =>
            rows.FirstOrDefault(r => r.Client == client && r.Dataset == dataset && r.Void is null);
        // The "large" data sets of the targets: the single big files (the scaling series runs the engine alone).
        var large = rows.Where(r => r.Group is "incompressible" or "float" or "seed").Select(r => r.Dataset).Distinct().ToList();

        double? overCurl = null, overCurlPaired = null, overCurlNull = null, overCurlParallel = null; string? overCurlSet = null;
        var incompressible = rows.Where(r => r.Group == "incompressible").Select(r => r.Dataset).FirstOrDefault();
        if (incompressible is not null && Row("engine", incompressible) is { } e)
        {
            overCurlSet = incompressible;
            overCurl = e.SpeedVsCurl;
            overCurlPaired = e.PairedSpeedVsCurl;
            overCurlNull = e.SpeedVsCurlNull;
            overCurlParallel = e.SpeedVsCurlParallel;
        }

        var overHfjs = Worst(large, d => Row("engine", d) is { } e2 && Row("hfjs", d) is { } h
            ? h.MedianWallSeconds / e2.MedianWallSeconds : null, lowest: true);
        // Save-XetFile against the engine: process wall time, then the clients' own clocks, with PowerShell's
        // start-up (the host process, the runspace, the module import) and the .NET start of the driver left out, so
        // what remains is the cmdlet layer's own cost. "cmdlet" is tools/ps (the summary's), "cmdlet-pwsh" real pwsh.
        ((double? Value, string? Dataset) Wall, (double? Value, string? Dataset) InProcess) OverEngine(string client) =>
            (Worst(large, d => Row("engine", d) is { } e3 && Row(client, d) is { } m
                ? m.MedianWallSeconds / e3.MedianWallSeconds : null, lowest: false),
             Worst(large, d => Row("engine", d) is { MedianInProcessSeconds: { } ei } && Row(client, d) is { MedianInProcessSeconds: { } ci } && ei > 0
                ? ci / ei : null, lowest: false));
        var (cmdlet, cmdletInProcess) = OverEngine("cmdlet");
        var (pwsh, pwshInProcess) = OverEngine("cmdlet-pwsh");
        var rss = Worst(rows.Select(r => r.Dataset).Distinct().ToList(),
            d => Row("engine", d) is { } e4 ? e4.MaxPeakRssMib - bufferMiB : null, lowest: false);

        var scalingRows = rows.Where(r => r.Group == "scaling" && r.Client == "engine" && r.Void is null).ToList();
        var scalingSpread = SpreadPercent(scalingRows.Select(r => r.SecondsPerGib).ToList());
        var curlScalingSpread = SpreadPercent(rows.Where(r => r.Group == "scaling" && r.Client == "curl" && r.Void is null)
            .Select(r => r.SecondsPerGib).ToList());
        // Only when every member reports the engine's own clock: a series with holes would not be the same series.
        var inProcessScaling = scalingRows.Where(r => r.MedianInProcessSeconds is > 0)
            .Select(r => r.MedianInProcessSeconds!.Value / (r.FileBytes / (1024.0 * MiB))).ToList();
        var inProcessSpread = inProcessScaling.Count == scalingRows.Count ? SpreadPercent(inProcessScaling) : null;
        // The engine in a warm process (its own clock, the last of its downloads in one session): the same series with
        // the process start and the runtime's tier-up left out, that is, what the engine itself does as files grow.
        var warmScaling = rows.Where(r => r.Group == "scaling" && r.Client == "engine-warm" && r.Void is null)
            .Select(r => r.SecondsPerGib).ToList();
        var warmSpread = warmScaling.Count == scalingRows.Count ? SpreadPercent(warmScaling) : null;
        // The engine's speed against curl's on each member, lowest and highest: whether the engine keeps its place
        // against the transfer limit as files grow, which the s/GiB spread cannot tell when curl's own is not flat
        // (process start weighs on the smallest member, the disk's write-back on the largest, for every client).
        var againstCurl = scalingRows.Select(r => r.SpeedVsCurl).ToList();
        double? scalingVsCurlLow = null, scalingVsCurlHigh = null;
        if (againstCurl.Count >= 2 && againstCurl.All(v => v is not null))
            (scalingVsCurlLow, scalingVsCurlHigh) = (againstCurl.Min(), againstCurl.Max());
        // Least-squares line wall = fixed + marginal * GiB: separates the per-run cost (process start, JIT, resolve)
        // that makes small members look slow per GiB from the cost that grows with the file.
        double? fixedSeconds = null, marginal = null;
        if (scalingRows.Count >= 2)
        {
            var xs = scalingRows.Select(r => r.FileBytes / (1024.0 * MiB)).ToArray();
            var ys = scalingRows.Select(r => r.MedianWallSeconds).ToArray();
            double mx = xs.Average(), my = ys.Average();
            var sxx = xs.Sum(x => (x - mx) * (x - mx));
            if (sxx > 0)
            {
                marginal = xs.Zip(ys, (x, y) => (x - mx) * (y - my)).Sum() / sxx;
                fixedSeconds = my - marginal * mx;
            }
        }

        double? seed = null;
        var seedSet = rows.Where(r => r.Group == "seed").Select(r => r.Dataset).FirstOrDefault();
        if (seedSet is not null && Row("engine", seedSet) is { } s64 && Row("engine-buf2g", seedSet) is { } s2g)
            seed = s64.MedianWallSeconds / s2g.MedianWallSeconds;

        // The engine as a user gets it (default 512 MiB buffer) against the same curl rows: the summary's xetps/curl
        // keeps the 64 MiB buffer every other engine row uses.
        double? defaultsOverCurl = incompressible is not null && Row("engine-default", incompressible) is { } ed ? ed.SpeedVsCurl : null;

        var xetpsOverCurl = headToHead is null ? overCurl : headToHead.For("engine")?.PairedMedian;
        return new Summary(xetpsOverCurl, overCurlSet ?? headToHead?.Dataset, overCurlNull, overCurlParallel, overHfjs.Value, overHfjs.Dataset, cmdlet.Value, cmdlet.Dataset,
                           cmdletInProcess.Value, cmdletInProcess.Dataset,
                           rss.Value, rss.Dataset, scalingSpread, fixedSeconds, marginal, seed, defaultsOverCurl,
                           curlScalingSpread, inProcessSpread,
                           pwsh.Value, pwsh.Dataset, pwshInProcess.Value, pwshInProcess.Dataset, overCurlPaired,
                           overCurl, headToHead, scalingVsCurlLow, scalingVsCurlHigh, warmSpread);
    }

    /// <summary>(max - min) / min in percent; null for fewer than two values.</summary>
    private static double? SpreadPercent(IReadOnlyList<double> values) =>
        values.Count >= 2 && values.Min() > 0 ? (values.Max() - values.Min()) / values.Min() * 100 : null;

    /// <summary>The scaling target's line: the engine's wall-time spread, then curl's, the engine's own clock and the
    /// engine in a warm process for scale, the fit, and the engine's lowest and highest speed against curl across the
    /// members.</summary>
    public static string ScalingLine(Summary s) =>
        Inv($"scaling: engine s/GiB spread across the series = {Percent(s.ScalingSecondsPerGibSpreadPercent)} (target <= 15%); curl's own = {Percent(s.ScalingCurlSpreadPercent)}; engine in process = {Percent(s.ScalingInProcessSpreadPercent)}; engine in a warm process = {Percent(s.ScalingWarmSpreadPercent)}; fit wall = {Ratio(s.ScalingFixedSeconds)} s + {Ratio(s.ScalingMarginalSecondsPerGib)} s/GiB; engine/curl speed per member = {(s.ScalingSpeedVsCurlLow is null ? "n/a" : Ratio(s.ScalingSpeedVsCurlLow) + "-" + Ratio(s.ScalingSpeedVsCurlHigh))}");

    private static string Percent(double? value) => value is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) + "%" : "n/a";

    private static (double? Value, string? Dataset) Worst(IReadOnlyList<string> datasets, Func<string, double?> ratio,
                                                          bool lowest)
    {
        (double? Value, string? Dataset) worst = (null, null);
        foreach (var d in datasets)
        {
            if (ratio(d) is not { } r) continue;
            if (worst.Value is null || (lowest ? r < worst.Value : r > worst.Value)) worst = (r, d);
        }
        return worst;
    }

    /// <summary>The closing line issue 6 asks for; a figure that could not be measured prints as "n/a".</summary>
    public static string TransferLimitLine(Summary s) =>
        Inv($"transfer limit ({s.XetPsOverCurlDataset ?? "n/a"}): table xetps/curl={Ratio(s.XetPsOverCurlTable)} (medians), paired by repetition={Ratio(s.XetPsOverCurlPaired)}; xetps/curl-null={Ratio(s.XetPsOverCurlNull)} xetps/curl-parallel={Ratio(s.XetPsOverCurlParallel)} (curl discarding the bytes); engine at its defaults (512 MiB buffer) / curl={Ratio(s.XetPsDefaultsOverCurl)}");

    /// <summary>The head-to-head phase's line (null without one): for each client, the figure against curl (the
    /// engine's is the summary's xetps/curl), its interval, and the two sides' medians.</summary>
    public static string? HeadToHeadLine(Summary s) => s.HeadToHead switch
    {
        null => null,
        { Void: { } reason } h => Inv($"head-to-head ({h.Dataset}): VOID: {reason}"),
        var h => Inv($"head-to-head ({h.Dataset}, {h.Rounds} rounds back to back, the order rotating; target >= 1.00): ")
                 + string.Join("; ", h.Comparisons.Select(c => Inv(
                     $"{(c.Client == "engine" ? "xetps" : c.Client)}/curl paired median={Ratio(c.PairedMedian)} (95% bootstrap interval {Ratio(c.CiLow)}-{Ratio(c.CiHigh)}; medians {Ratio(c.ClientMedianWallSeconds)} s{(OwnClockClients.Contains(c.Client) ? " by its own clock" : "")} against {Ratio(c.CurlMedianWallSeconds)} s)"))),
    };

    /// <summary>cmdlet/engine twice: process wall time (PowerShell's start-up included) and the clients' own clocks;
    /// then the same for Save-XetFile in real pwsh.</summary>
    public static string CmdletLine(Summary s) =>
        Inv($"cmdlet layer: ") +
        (s.HeadToHead?.CmdletLayers is { Count: > 0 } layers
            ? Inv($"head-to-head ({s.HeadToHead.Dataset}), cmdlet/engine in process, paired medians: ") + string.Join("; ",
                  layers.OrderBy(layer => layer.Client == PromptCmdletClient ? 0 : 1).Select(layer => Inv(
                  $"{(layer.Client == PromptCmdletClient ? $"at a prompt (begun {PromptPauseSeconds} s after PowerShell started; target <= 1.05)" : "at once (begun as soon as PowerShell started)")} {Ratio(layer.PairedMedian)} over {layer.Pairs} rounds (95% bootstrap interval {Ratio(layer.CiLow)}-{Ratio(layer.CiHigh)}; medians {Ratio(layer.CmdletMedianSeconds)} s against {Ratio(layer.EngineMedianSeconds)} s)")))
              + "; table: "
            : "") +
        Inv($"cmdlet/engine wall={Ratio(s.CmdletOverEngine)} ({s.CmdletOverEngineDataset ?? "n/a"}, PowerShell start-up included), in-process={Ratio(s.CmdletOverEngineInProcess)} ({s.CmdletOverEngineInProcessDataset ?? "n/a"}, start-up excluded; target <= 1.05); ") +
        Inv($"in pwsh: wall={Ratio(s.PwshOverEngine)} ({s.PwshOverEngineDataset ?? "n/a"}), in-process={Ratio(s.PwshOverEngineInProcess)} ({s.PwshOverEngineInProcessDataset ?? "n/a"})");

    public static string SummaryLine(Summary s) =>
        Inv($"summary: xetps/curl={Ratio(s.XetPsOverCurl)} xetps/hfjs={Ratio(s.XetPsOverHfjs)} cmdlet/engine={Ratio(s.CmdletOverEngine)} peak_rss_over_buffer_mib={(s.PeakRssOverBufferMiB is { } v ? Math.Round(v).ToString(CultureInfo.InvariantCulture) : "n/a")}");

    public static string Json(object document) => JsonSerializer.Serialize(document, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static string Ratio(double? value) => value is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "n/a";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
