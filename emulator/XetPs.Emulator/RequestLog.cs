using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Emulator;

/// <summary>The route family a request belongs to; faults and log queries are per route.</summary>
public enum EmulatorRoute
{
    Other = 0,
    Tree,
    Resolve,
    Token,
    Reconstruction,
    Xorb,
    /// <summary>The LFS-style bridge a client reaches by following the resolve redirect of a Xet file.</summary>
    Bridge,
}

/// <summary>One served request as seen on the wire. <see cref="Time"/> is its arrival; <see cref="Sequence"/> its
/// arrival order. Tokens are never recorded; only whether an Authorization header was present (presigned xorb URLs
/// must be fetched without one). <see cref="ContentEncoding"/> is the answer's content coding (gzip), if any.</summary>
public sealed record RequestLogEntry(
    long Sequence,
    DateTimeOffset Time,
    EmulatorRoute Route,
    string Method,
    string Path,
    string? Range,
    int Status,
    long BytesSent,
    string? Fault,
    bool HadAuthorization,
    bool Aborted,
    string ConnectionId,
    string? ContentEncoding = null);

/// <summary>
/// The request log that tests and benchmarks read. An entry is added before the client can see the end of its
/// answer (just before the last body write), and corrected if the answer then fails (abort, short body); so after a
/// client has read a whole response, its entry is there. Readers get snapshots, so iteration never races the server. Bounded: the oldest entries are dropped
/// past <see cref="Capacity"/> so a long benchmark run cannot grow it without end.
/// </summary>
public sealed class RequestLog
{
    private readonly object _gate = new();
    private readonly LinkedList<RequestLogEntry> _entries = new();
    private long _sequence;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Most entries kept.</summary>
    public int Capacity { get; set; } = 200_000;

    /// <summary>Number of requests logged since the start (or the last <see cref="Clear"/>), dropped ones included.</summary>
    public long TotalCount { get { lock (_gate) return _sequence; } }

    /// <summary>A snapshot of the kept entries, oldest first.</summary>
    public IReadOnlyList<RequestLogEntry> Entries
    {
        get { lock (_gate) return _entries.ToArray(); }
    }

    /// <summary>A snapshot of the entries of one route.</summary>
    public IReadOnlyList<RequestLogEntry> For(EmulatorRoute route)
    {
        lock (_gate) return _entries.Where(e => e.Route == route).ToArray();
    }

    public void Clear()
    {
        lock (_gate) { _entries.Clear(); _sequence = 0; }
    }

    internal long NextSequence()
    {
        lock (_gate) return ++_sequence;
    }

    /// <summary>Raised after an entry is added (first record of a request), outside the log's lock.</summary>
    public event Action<RequestLogEntry>? Added;

    internal void Add(RequestLogEntry entry)
    {
        lock (_gate)
        {
            _entries.AddLast(entry);
            while (_entries.Count > Capacity) _entries.RemoveFirst();
        }
        Signal();
        Added?.Invoke(entry);
    }

    /// <summary>Wakes the waiters of <see cref="WaitForAsync"/>.</summary>
    private void Signal()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>Replaces the entry with the same sequence number (an outcome corrected after it was first logged).</summary>
    internal void Replace(RequestLogEntry entry)
    {
        lock (_gate)
        {
            for (var node = _entries.Last; node is not null; node = node.Previous)
            {
                if (node.Value.Sequence != entry.Sequence) continue;
                node.Value = entry;
                break;
            }
        }
        Signal();
    }

    /// <summary>
    /// The last entry that matches, waiting for it when it is not logged yet: an entry is added when the server's
    /// handler ends, which can be a moment after the client has read the last byte. Throws
    /// <see cref="TimeoutException"/> (with the log so far) when none arrives within <paramref name="timeout"/>.
    /// </summary>
    public async Task<RequestLogEntry> WaitForAsync(Func<RequestLogEntry, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var found = _entries.LastOrDefault(match);
                if (found is not null) return found;
                changed = _changed.Task;
            }
            try { await changed.WaitAsync(cts.Token).ConfigureAwait(false); }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("No matching request was logged. Log:" + Environment.NewLine + this);
            }
        }
    }

    /// <summary>One line per entry, for a human reading a failed test.</summary>
    public override string ToString()
    {
        return string.Join(Environment.NewLine, Entries.Select(Format));
    }

    /// <summary>One line for an entry: sequence, method, path, range, status, bytes, fault.</summary>
    public static string Format(RequestLogEntry e) =>
        $"{e.Sequence} {e.Method} {e.Path} range={e.Range ?? "-"} -> {e.Status} {e.BytesSent}B" +
        (e.Fault is null ? "" : $" fault={e.Fault}") + (e.Aborted ? " aborted" : "");
}
