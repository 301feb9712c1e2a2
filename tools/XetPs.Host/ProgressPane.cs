using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;

namespace XetPs.Host;

/// <summary>
/// Write-Progress for tools/ps. On a terminal: a bar per top-level activity and a line per child, redrawn in place
/// (ANSI cursor movement) at most ten times a second and erased when the activity completes or other text is
/// written. Redirected: plain lines on stderr, at most one a second per activity, so logs stay readable and stdout
/// stays the objects; an activity's last line is its final state followed by "ended", whatever the throttle skipped.
/// Invariants: the pane knows how many lines it drew and erases exactly those; a Completed record removes its
/// activity and the activity's children. Not thread-safe: the UI's lock orders calls.
/// </summary>
internal sealed class ProgressPane
{
    private const int MaxChildrenShown = 4;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan BurstWindow = TimeSpan.FromMilliseconds(5);

    private readonly bool _terminal;
    private readonly TextWriter _screen;
    private readonly TextWriter _log;
    private readonly Func<int> _width;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(long Source, ProgressRecord Record)> _records = new();
    private readonly Dictionary<(long, int), TimeSpan> _lastPlain = new();
    private TimeSpan? _lastDraw;
    private int _drawnLines;

    public ProgressPane(bool terminal, TextWriter screen, TextWriter log, Func<int> width)
    {
        _terminal = terminal;
        _screen = screen;
        _log = log;
        _width = width;
    }

    public void Update(long sourceId, ProgressRecord record)
    {
        var index = _records.FindIndex(r => r.Source == sourceId && r.Record.ActivityId == record.ActivityId);
        if (record.RecordType == ProgressRecordType.Completed)
        {
            var final = index >= 0 ? _records[index].Record : null;
            if (index >= 0) _records.RemoveAt(index);
            _records.RemoveAll(r => r.Source == sourceId && r.Record.ParentActivityId == record.ActivityId);
            if (_terminal) Draw(force: true);
            else if (record.ParentActivityId < 0 && _lastPlain.Remove((sourceId, record.ActivityId)))
                // The state it ended in (a line the throttle may have held back), and "ended", not "done": a failed
                // command completes its activity too.
                WritePlain((final is null ? record.Activity : Describe(final)) + "; ended");
            return;
        }
        if (index >= 0) _records[index] = (sourceId, record);
        else _records.Add((sourceId, record));

        if (_terminal)
        {
            Draw(force: false);
            return;
        }
        var key = (sourceId, record.ActivityId);
        var now = _clock.Elapsed;
        if (_lastPlain.TryGetValue(key, out var last) && now - last < PlainInterval) return;
        _lastPlain[key] = now;
        WritePlain((record.ParentActivityId >= 0 ? "  " : string.Empty) + Describe(record));
    }

    /// <summary>Erases the drawn bar (before other text, and at the end of the run).</summary>
    public void Clear()
    {
        if (!_terminal || _drawnLines == 0) return;
        _screen.Write(MoveToFirstLine() + "\u001b[J");
        _screen.Flush();
        _drawnLines = 0;
        _lastDraw = null; // the next update redraws at once
    }

    private void Draw(bool force)
    {
        var now = _clock.Elapsed;
        // Records come in bursts (a parent, then its children, within a millisecond): a burst is drawn whole, and
        // the next burst waits for the interval.
        if (!force && _lastDraw is { } last && now - last < RedrawInterval && now - last > BurstWindow) return;
        if (_lastDraw is not { } previous || now - previous > BurstWindow) _lastDraw = now;
        var width = Math.Max(20, _width() - 1);
        var lines = new List<string>();
        foreach (var (source, parent) in _records.Where(r => r.Record.ParentActivityId < 0))
        {
            lines.Add(Fit(Bar(parent, width), width));
            foreach (var (_, child) in _records.Where(r => r.Source == source && r.Record.ParentActivityId == parent.ActivityId).Take(MaxChildrenShown))
                lines.Add(Fit("  " + Describe(child), width));
        }
        var text = new StringBuilder(MoveToFirstLine());
        for (var i = 0; i < lines.Count; i++)
        {
            text.Append("\u001b[2K").Append(lines[i]);
            if (i < lines.Count - 1) text.Append('\n');
        }
        text.Append("\u001b[J"); // lines left over from a taller previous frame
        _screen.Write(text.ToString());
        _screen.Flush();
        _drawnLines = lines.Count;
    }

    // From the end of the last drawn line back to the start of the first one.
    private string MoveToFirstLine() => _drawnLines switch
    {
        0 => "\r",
        1 => "\r",
        _ => $"\u001b[{_drawnLines - 1}F",
    };

    private static string Bar(ProgressRecord record, int width)
    {
        var head = record.Activity;
        var tail = " " + Describe(record, includeActivity: false);
        if (record.PercentComplete < 0) return head + tail;
        const int barWidth = 30;
        var filled = record.PercentComplete * barWidth / 100;
        return $"{head} [{new string('=', filled)}{(filled < barWidth ? ">" : string.Empty)}{new string(' ', Math.Max(0, barWidth - filled - 1))}]{tail}";
    }

    private static string Describe(ProgressRecord record, bool includeActivity = true)
    {
        var text = new StringBuilder();
        if (includeActivity) text.Append(record.Activity).Append(": ");
        text.Append(record.StatusDescription);
        if (record.PercentComplete >= 0) text.Append(' ').Append(record.PercentComplete).Append('%');
        if (record.SecondsRemaining >= 0) text.Append(", ").Append(TimeSpan.FromSeconds(record.SecondsRemaining).ToString("c")).Append(" left");
        if (!string.IsNullOrEmpty(record.CurrentOperation)) text.Append(" (").Append(record.CurrentOperation).Append(')');
        return text.ToString();
    }

    private static string Fit(string line, int width) => line.Length <= width ? line : line.Substring(0, width - 1) + "…";

    private void WritePlain(string line)
    {
        _log.WriteLine(line);
        _log.Flush();
    }
}
