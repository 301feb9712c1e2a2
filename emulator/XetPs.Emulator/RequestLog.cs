using System;
using System.Collections.Generic;
using System.Linq;

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

/// <summary>One served request as seen on the wire. Tokens are never recorded; only whether an
/// Authorization header was present (presigned xorb URLs must be fetched without one).</summary>
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
    string ConnectionId);

/// <summary>
/// The request log that tests and benchmarks read. Appended by the server when a response ends (completed or
/// aborted); readers get snapshots, so iteration never races the server. Bounded: the oldest entries are dropped
/// past <see cref="Capacity"/> so a long benchmark run cannot grow it without end.
/// </summary>
public sealed class RequestLog
{
    private readonly object _gate = new();
    private readonly LinkedList<RequestLogEntry> _entries = new();
    private long _sequence;

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

    internal void Add(RequestLogEntry entry)
    {
        lock (_gate)
        {
            _entries.AddLast(entry);
            while (_entries.Count > Capacity) _entries.RemoveFirst();
        }
    }

    /// <summary>One line per entry, for a human reading a failed test.</summary>
    public override string ToString()
    {
        var lines = Entries.Select(e =>
            $"{e.Sequence} {e.Method} {e.Path} range={e.Range ?? "-"} -> {e.Status} {e.BytesSent}B" +
            (e.Fault is null ? "" : $" fault={e.Fault}") + (e.Aborted ? " aborted" : ""));
        return string.Join(Environment.NewLine, lines);
    }
}
