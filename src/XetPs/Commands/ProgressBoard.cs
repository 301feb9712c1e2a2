using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;

namespace XetPs.Commands;

/// <summary>
/// Save-XetFile's Write-Progress model: one parent record (files done of queued, bytes, rate, time left) and
/// one child per file in flight. Fed on the pipeline thread from outbox messages; hands back the records to write.
/// Invariants: at most one render per <see cref="RenderInterval"/> (about five a second, like the console's own
/// redraw), however fast the engine reports, except the final one; every record that was shown gets exactly one
/// Completed record; child ids are unique for the life of the command (2, 3, ...), the parent is <see cref="ParentId"/>.
/// The time left is part of the status text, after the rate, rather than SecondsRemaining: pwsh's one-line view
/// appends SecondsRemaining to the status without a space whenever the status fills the bar ("988 KB/s6s").
/// </summary>
internal sealed class ProgressBoard
{
    public const int ParentId = 1;
    public static readonly TimeSpan RenderInterval = TimeSpan.FromMilliseconds(200);

    private const string Activity = "Save-XetFile";
    private readonly string _destination;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<int, ActiveFile> _active = new();
    private readonly HashSet<int> _shown = new();
    private TimeSpan _lastRender = TimeSpan.MinValue;
    private TimeSpan? _firstByteAt;
    private bool _parentShown;
    private int _filesQueued;
    private int _filesDone;
    private int _filesWithoutSize;
    private long _bytesKnownTotal;
    private long _bytesDone;        // sizes of finished files (downloaded or skipped)
    private long _bytesTransferred; // bytes actually written by finished downloads, for the rate

    /// <param name="destination">The folder the files go to, shown as the parent's current operation.</param>
    public ProgressBoard(string destination) => _destination = destination;

    public void Queued(SaveItem item)
    {
        _filesQueued++;
        if (item.KnownSize is { } size) _bytesKnownTotal += size;
        else _filesWithoutSize++;
    }

    /// <param name="written">Bytes of the file that have arrived (<see cref="XetPs.Reconstruction.FileProgress.BytesArrived"/>) or were written.</param>
    public void Progressed(SaveItem item, long written, long total)
    {
        _firstByteAt ??= _clock.Elapsed;
        if (!_active.TryGetValue(item.ProgressId, out var file))
        {
            file = new ActiveFile(item.RepoPath);
            _active[item.ProgressId] = file;
            if (item.KnownSize is null && total >= 0)
            {
                // The size arrives with the first report: from now on it counts in the byte totals.
                _filesWithoutSize--;
                _bytesKnownTotal += total;
            }
        }
        file.Written = written;
        file.Total = total;
    }

    /// <summary>A file ended (saved, skipped or failed); returns its child's Completed record if it was shown.</summary>
    public ProgressRecord? Finished(SaveItem item, long size, bool transferred)
    {
        _filesDone++;
        _bytesDone += size;
        if (transferred) _bytesTransferred += size;
        if (!_active.Remove(item.ProgressId) && item.KnownSize is null)
        {
            // Ended before its first report (skipped, or failed early): its size counts only now.
            _filesWithoutSize--;
            _bytesKnownTotal += size;
        }
        if (!_shown.Remove(item.ProgressId)) return null;
        return new ProgressRecord(item.ProgressId, Truncate(item.RepoPath), "Done")
        {
            ParentActivityId = ParentId,
            RecordType = ProgressRecordType.Completed,
        };
    }

    /// <summary>The parent and the active children, or nothing when the last render was too recent.</summary>
    public IReadOnlyList<ProgressRecord> RenderIfDue()
    {
        var now = _clock.Elapsed;
        if (_lastRender != TimeSpan.MinValue && now - _lastRender < RenderInterval) return Array.Empty<ProgressRecord>();
        _lastRender = now;
        var records = new List<ProgressRecord>(_active.Count + 1) { RenderParent(now) };
        _parentShown = true;
        foreach (var pair in _active)
        {
            var file = pair.Value;
            var status = file.Total > 0
                ? $"{ByteSize.Format(file.Written)} of {ByteSize.Format(file.Total)}"
                : ByteSize.Format(file.Written);
            records.Add(new ProgressRecord(pair.Key, Truncate(file.Path), status)
            {
                ParentActivityId = ParentId,
                PercentComplete = Percent(file.Written, file.Total),
            });
            _shown.Add(pair.Key);
        }
        return records;
    }

    /// <summary>Completed records for everything still shown (children first, then the parent).</summary>
    public IReadOnlyList<ProgressRecord> Complete()
    {
        var records = new List<ProgressRecord>();
        foreach (var id in _shown)
        {
            var path = _active.TryGetValue(id, out var file) ? file.Path : "file";
            records.Add(new ProgressRecord(id, Truncate(path), "Done")
            {
                ParentActivityId = ParentId,
                RecordType = ProgressRecordType.Completed,
            });
        }
        _shown.Clear();
        if (_parentShown)
        {
            records.Add(new ProgressRecord(ParentId, Activity, "Done") { RecordType = ProgressRecordType.Completed });
            _parentShown = false;
        }
        return records;
    }

    /// <summary>
    /// The parent once more, with the final counts, whatever the time since the last render: the last state a log of
    /// the progress shows is the batch's end ("6 of 6 files"), not a state from before the last files ended.
    /// </summary>
    public IReadOnlyList<ProgressRecord> RenderFinal()
    {
        if (!_parentShown) return Array.Empty<ProgressRecord>();
        _lastRender = _clock.Elapsed;
        return new[] { RenderParent(_lastRender) };
    }

    private ProgressRecord RenderParent(TimeSpan now)
    {
        long inFlight = 0;
        foreach (var file in _active.Values) inFlight += file.Written;
        var bytesSoFar = _bytesDone + inFlight;
        var rate = double.NaN;
        if (_firstByteAt is { } start && now - start > TimeSpan.FromMilliseconds(100))
            rate = (_bytesTransferred + inFlight) / (now - start).TotalSeconds;
        var sizesKnown = _filesWithoutSize == 0;
        var status = $"{_filesDone} of {_filesQueued} files, {ByteSize.Format(bytesSoFar)}"
                     + (sizesKnown ? $" of {ByteSize.Format(_bytesKnownTotal)}" : string.Empty)
                     + (rate > 0 ? $", {ByteSize.FormatRate(rate)}" : string.Empty); // none yet, or all up to date
        if (sizesKnown && rate > 0 && _filesDone < _filesQueued)
            status += ", " + TimeLeft(Math.Max(0, _bytesKnownTotal - bytesSoFar) / rate) + " left";
        return new ProgressRecord(ParentId, Activity, status)
        {
            CurrentOperation = "to " + _destination,
            PercentComplete = sizesKnown && _bytesKnownTotal > 0
                ? Percent(bytesSoFar, _bytesKnownTotal)
                : Percent(_filesDone, _filesQueued),
        };
    }

    /// <summary>"6 s", "2 min 05 s", "1 h 02 min": whole units, as a person estimates.</summary>
    internal static string TimeLeft(double seconds)
    {
        var whole = (long)Math.Min(long.MaxValue / 2, Math.Ceiling(seconds));
        if (whole < 60) return whole.ToString(CultureInfo.InvariantCulture) + " s";
        if (whole < 3600) return string.Format(CultureInfo.InvariantCulture, "{0} min {1:00} s", whole / 60, whole % 60);
        return string.Format(CultureInfo.InvariantCulture, "{0} h {1:00} min", whole / 3600, whole / 60 % 60);
    }

    private static int Percent(long part, long whole) =>
        whole <= 0 ? -1 : (int)Math.Max(0, Math.Min(100, part * 100 / whole));

    // Long repo paths would wrap the progress line; keep the end, which names the file. ASCII dots: a Windows
    // PowerShell 5.1 console on a legacy code page cannot show an ellipsis.
    private static string Truncate(string path) => path.Length <= 60 ? path : "..." + path.Substring(path.Length - 57);

    private sealed class ActiveFile
    {
        public ActiveFile(string path) => Path = path;
        public string Path { get; }
        public long Written { get; set; }
        public long Total { get; set; }
    }
}
