using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace XetPs.Bench.Integrity;

/// <summary>How one download through the corrupting proxy ended.</summary>
public enum IntegrityOutcome
{
    /// <summary>Reported success, and the destination's sha256 is the stored file's.</summary>
    Exact,

    /// <summary>Threw, and left no wrong file at the destination: a flaky link cost a failed download, never bad data.</summary>
    Failed,

    /// <summary>A file at the destination with other bytes, or a success with no file: the promise broken.</summary>
    Wrong,
}

/// <summary>
/// One download of the integrity run: its outcome and why, its wall time, what the proxy did meanwhile (xorb answers,
/// damaged ones) and the engine's log lines that tell of recovery, counted by message template.
/// </summary>
public sealed record IntegrityDownload(int Index, IntegrityOutcome Outcome, string Detail, double Seconds, long XorbResponses,
    long CorruptedResponses, IReadOnlyDictionary<string, int> Recoveries)
{
    /// <summary>File-level retries: the engine's "Downloading it again" warning, one per fresh download of the file.</summary>
    public int Redownloads => Count(IntegrityReport.IsRedownload);

    /// <summary>Load-level refetches: one xorb fetched again after it did not decode (or any other "refetch" line).</summary>
    public int Refetches => Count(t => !IntegrityReport.IsRedownload(t) && IntegrityReport.IsRefetch(t));

    /// <summary>HTTP retries of the transport (an error status, a reset, a timeout).</summary>
    public int Retries => Count(t => t.StartsWith("Retrying", StringComparison.Ordinal));

    private int Count(Func<string, bool> template) => Recoveries.Where(p => template(p.Key)).Sum(p => p.Value);
}

/// <summary>
/// The integrity run's judgement and report: what counts as byte-exact, failed or wrong; the table; the summary line.
/// Pure functions of the measurements, so they are specified apart from the run.
/// </summary>
public static class IntegrityReport
{
    public static bool IsRedownload(string template) => template.Contains("Downloading it again", StringComparison.Ordinal);

    public static bool IsRefetch(string template) =>
        template.Contains("refetch", StringComparison.OrdinalIgnoreCase) || template.Contains("fetching it again", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Judges one download from what it threw (null: it reported success) and the sha256 of the file at its destination
    /// (null: no file). Wrong bytes at the destination are wrong whatever the download reported.
    /// </summary>
    public static (IntegrityOutcome Outcome, string Detail) Judge(string expectedSha256, Exception? error, string? destinationSha256)
    {
        var left = destinationSha256 is null ? "nothing left"
            : string.Equals(destinationSha256, expectedSha256, StringComparison.OrdinalIgnoreCase) ? "the right file left" : "a file with other bytes left";
        if (destinationSha256 is not null && !string.Equals(destinationSha256, expectedSha256, StringComparison.OrdinalIgnoreCase))
            return (IntegrityOutcome.Wrong, error is null ? "reported success, " + left : error.GetType().Name + ", " + left);
        if (error is not null) return (IntegrityOutcome.Failed, error.GetType().Name + ", " + left);
        return destinationSha256 is null ? (IntegrityOutcome.Wrong, "reported success, nothing at the destination") : (IntegrityOutcome.Exact, "byte-exact");
    }

    /// <summary>The per-download table (markdown).</summary>
    public static string Table(IReadOnlyList<IntegrityDownload> downloads)
    {
        var text = new StringBuilder();
        text.AppendLine("| # | outcome | detail | wall s | xorb answers | corrupted | re-downloads | refetches | retries |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var d in downloads)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {d.Index} | {OutcomeName(d.Outcome)} | {d.Detail} | {d.Seconds:F2} | {d.XorbResponses} | {d.CorruptedResponses} | {d.Redownloads} | {d.Refetches} | {d.Retries} |"));
        return text.ToString();
    }

    /// <summary>Every recovery line of the run by template, most frequent first: "  N x [level] template".</summary>
    public static IEnumerable<string> RecoverySummary(IReadOnlyList<IntegrityDownload> downloads) =>
        downloads.SelectMany(d => d.Recoveries)
            .GroupBy(p => p.Key, p => p.Value)
            .Select(g => (Template: g.Key, Count: g.Sum()))
            .OrderByDescending(p => p.Count).ThenBy(p => p.Template, StringComparer.Ordinal)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"  {p.Count} x {p.Template}"));

    /// <summary><c>integrity: downloads=10 exact=E failed=F wrong=W corrupted_responses=C rate=0.20</c></summary>
    public static string Summary(IReadOnlyList<IntegrityDownload> downloads, double rate) =>
        string.Create(CultureInfo.InvariantCulture,
            $"integrity: downloads={downloads.Count} exact={downloads.Count(d => d.Outcome == IntegrityOutcome.Exact)} " +
            $"failed={downloads.Count(d => d.Outcome == IntegrityOutcome.Failed)} wrong={downloads.Count(d => d.Outcome == IntegrityOutcome.Wrong)} " +
            $"corrupted_responses={downloads.Sum(d => d.CorruptedResponses)} rate={rate:F2}");

    /// <summary>The process's exit code: non-zero when any download left wrong bytes or claimed a file it did not write.</summary>
    public static int ExitCode(IReadOnlyList<IntegrityDownload> downloads) => downloads.Any(d => d.Outcome == IntegrityOutcome.Wrong) ? 1 : 0;

    private static string OutcomeName(IntegrityOutcome outcome) => outcome switch
    {
        IntegrityOutcome.Exact => "exact",
        IntegrityOutcome.Failed => "failed",
        _ => "WRONG",
    };
}
