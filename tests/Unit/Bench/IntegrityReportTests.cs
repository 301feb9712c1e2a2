using System;
using System.Collections.Generic;
using System.IO;
using XetPs.Bench.Integrity;

namespace XetPs.Tests.Bench;

/// <summary>
/// Specifications of the integrity benchmark's judgement: a download is judged on the bytes at its destination, not on
/// what it reported, and the summary line and exit code follow from those judgements.
/// </summary>
public class IntegrityReportTests
{
    private const string Expected = "aa11";

    private static IntegrityDownload Download(IntegrityOutcome outcome, long corrupted = 0, Dictionary<string, int>? recoveries = null) =>
        new(1, outcome, "", 1.0, 2, corrupted, recoveries ?? new Dictionary<string, int>());

    [Fact]
    public void A_success_with_the_stored_bytes_is_exact()
    {
        Assert.Equal(IntegrityOutcome.Exact, IntegrityReport.Judge(Expected, null, "AA11").Outcome);
    }

    [Fact]
    public void Other_bytes_at_the_destination_are_wrong_whether_or_not_the_download_threw()
    {
        Assert.Equal(IntegrityOutcome.Wrong, IntegrityReport.Judge(Expected, null, "bb22").Outcome);
        Assert.Equal(IntegrityOutcome.Wrong, IntegrityReport.Judge(Expected, new IOException("late"), "bb22").Outcome);
    }

    [Fact]
    public void A_success_that_left_no_file_is_wrong()
    {
        var (outcome, detail) = IntegrityReport.Judge(Expected, null, null);

        Assert.Equal(IntegrityOutcome.Wrong, outcome);
        Assert.Contains("nothing at the destination", detail);
    }

    [Fact]
    public void A_failure_that_left_nothing_is_failed_and_names_its_exception_type()
    {
        var (outcome, detail) = IntegrityReport.Judge(Expected, new InvalidDataException("bad bytes"), null);

        Assert.Equal(IntegrityOutcome.Failed, outcome);
        Assert.Equal("InvalidDataException, nothing left", detail);
    }

    [Fact]
    public void Recovery_lines_are_told_apart_by_template()
    {
        var download = Download(IntegrityOutcome.Exact, recoveries: new Dictionary<string, int>
        {
            ["{Path}: {Mismatch} Downloading it again (attempt {Attempt} of {Attempts})"] = 2,
            ["Xorb {Xorb} did not decode ({Error}); fetching it again"] = 3,
            ["Retrying {Operation} in {DelayMs} ms (attempt {Attempt} failed: {Error})"] = 1,
        });

        Assert.Equal((2, 3, 1), (download.Redownloads, download.Refetches, download.Retries));
    }

    [Fact]
    public void The_summary_counts_outcomes_and_corrupted_answers_and_one_wrong_fails_the_run()
    {
        var downloads = new[] { Download(IntegrityOutcome.Exact, 1), Download(IntegrityOutcome.Failed, 3), Download(IntegrityOutcome.Exact) };

        Assert.Equal("integrity: downloads=3 exact=2 failed=1 wrong=0 corrupted_responses=4 rate=0.20", IntegrityReport.Summary(downloads, 0.2));
        Assert.Equal(0, IntegrityReport.ExitCode(downloads));
        Assert.Equal(1, IntegrityReport.ExitCode([.. downloads, Download(IntegrityOutcome.Wrong)]));
    }
}
