using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;

namespace XetPs.Commands;

/// <summary>
/// What became of the files one Save-XetFile call accepted: the counts its summary and its terminating error report,
/// and the order in which their -PassThru objects may leave. Fed on the pipeline thread only.
/// Invariant: objects leave in the order the files were accepted (the order of the input), whatever order the
/// downloads end in; a file that ended waits only for the files accepted before it.
/// </summary>
internal sealed class SaveBatch
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly SortedDictionary<int, string?> _ended = new();
    private int _accepted;
    private int _failedBeforeStart;
    private int _nextToRelease;

    /// <summary>Files accepted so far.</summary>
    public int Accepted => _accepted;

    public int Saved { get; private set; }

    public int UpToDate { get; private set; }

    public int Failed { get; private set; }

    /// <summary>Input that arrived after a failure had ended the batch: refused, never started.</summary>
    public int NotStarted { get; private set; }

    /// <summary>Bytes of the files saved (downloaded, not those found up to date).</summary>
    public long BytesSaved { get; private set; }

    /// <summary>A file joins the batch; its number orders its output.</summary>
    public int Accept() => _accepted++;

    public void Refused(int count) => NotStarted += count;

    /// <summary>A file failed before it was accepted (an unsafe path, a pattern that matched nothing).</summary>
    public void FailedBeforeStart()
    {
        Failed++;
        _failedBeforeStart++;
    }

    /// <summary>Every file the call was asked for: accepted, failed before it could be, or refused.</summary>
    public int Files => _accepted + _failedBeforeStart + NotStarted;

    /// <summary>
    /// File <paramref name="order"/> ended: saved or found up to date (<paramref name="destination"/> is where it
    /// is), or failed (null). Returns the destinations whose objects may now be written, in input order.
    /// </summary>
    public IReadOnlyList<string> Ended(int order, string? destination, bool skipped, long size)
    {
        if (destination is null) Failed++;
        else if (skipped) UpToDate++;
        else
        {
            Saved++;
            BytesSaved += size;
        }
        _ended[order] = destination;
        List<string>? released = null;
        while (_ended.TryGetValue(_nextToRelease, out var next))
        {
            _ended.Remove(_nextToRelease++);
            if (next is not null) (released ??= new List<string>()).Add(next);
        }
        return released ?? (IReadOnlyList<string>)Array.Empty<string>();
    }

    /// <summary>"2 saved, 1 up to date, 1 failed, 0 not started": what the terminating error says about the batch.</summary>
    public string Counts() => string.Format(CultureInfo.InvariantCulture, "{0} saved, {1} up to date, {2} failed, {3} not started",
        Saved, UpToDate, Failed, NotStarted);

    /// <summary>The closing summary: the counts, the bytes saved and the time the command took.</summary>
    public string Summary() =>
        $"Save-XetFile: {Counts()}; {ByteSize.Format(BytesSaved)} saved in {_clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.";
}
