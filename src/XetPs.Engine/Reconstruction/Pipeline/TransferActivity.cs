using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>
/// A session's progress, as the stall watchdog reads it: when a byte last moved (received in any response body, or
/// written to any file), the transport's operations in flight with their attempts and last failure, and how many of
/// them wait to retry after the server answered with an error. The transport reports here (it is the session
/// transport's <see cref="ITransferObserver"/>), and so do the writers and the plain downloader. Lock-free but for
/// each operation's own small state.
/// </summary>
internal sealed class TransferActivity : ITransferObserver
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<Operation, byte> _operations = new();
    private long _lastProgressTicks;
    private long _written;
    private int _retryWaits;

    /// <summary>Elapsed time of the session clock at the last progress.</summary>
    public long LastProgressTicks => Interlocked.Read(ref _lastProgressTicks);

    public long NowTicks => _clock.ElapsedTicks;

    public static long TicksPerSecond => Stopwatch.Frequency;

    /// <summary>
    /// Operations waiting out the delay before their next attempt after an answer that was an error (a status, a
    /// reset, a refused connection), not a silence (<see cref="XetHttpTransport.IsSilence"/>): the retry policy
    /// bounds that wait.
    /// </summary>
    public int RetryWaits => Volatile.Read(ref _retryWaits);

    /// <summary>Body bytes arrived: the transport reports every read, and the xorb registry each completed fetch (all
    /// it sees of a reader that bypasses the transport).</summary>
    public void Received(long bytes) => Touch();

    /// <summary>Bytes reached a file.</summary>
    public void Written(long bytes)
    {
        Interlocked.Add(ref _written, bytes);
        Touch();
    }

    /// <summary>Bytes written to files so far (each byte of a file once: chunks served again are not written again).</summary>
    public long BytesWritten => Interlocked.Read(ref _written);

    /// <summary>Records progress that moved no payload byte (e.g. a reconstruction answer was planned).</summary>
    public void Touch() => Interlocked.Exchange(ref _lastProgressTicks, _clock.ElapsedTicks);

    /// <summary>An operation in flight, listed by <see cref="DescribeRequests"/> until disposed: the transport's, or
    /// one with a retry loop of its own (the plain downloader's body).</summary>
    public ITransferOperation Started(string operation)
    {
        var started = new Operation(this, operation);
        _operations.TryAdd(started, 0);
        return started;
    }

    /// <summary>
    /// The operations in flight, oldest first, for the watchdog's message ("none" when there are none), and the
    /// newest failure among them: the error a stalled file carries inside.
    /// </summary>
    public string DescribeRequests(out Exception? lastFailure)
    {
        var now = NowTicks;
        var operations = _operations.Keys.OrderBy(o => o.StartedTicks).ToList();
        lastFailure = operations.Select(o => o.Snapshot()).Where(s => s.LastFailure is not null)
            .OrderByDescending(s => s.FailedTicks).Select(s => s.LastFailure).FirstOrDefault();
        if (operations.Count == 0) return "requests in flight: none";
        const int Shown = 3;
        var shown = operations.Take(Shown).Select(o => o.Describe(now));
        var more = operations.Count > Shown ? $" and {operations.Count - Shown} more" : "";
        return "requests in flight: " + string.Join(", ", shown) + more;
    }

    private void EnterRetryWait() => Interlocked.Increment(ref _retryWaits);

    private void LeaveRetryWait() => Interlocked.Decrement(ref _retryWaits);

    /// <summary>One transport operation in flight. Its state changes under its own lock, at most once per attempt.</summary>
    private sealed class Operation : ITransferOperation
    {
        private readonly object _gate = new();
        private readonly TransferActivity _owner;
        private readonly string _name;
        private int _attempts;
        private Exception? _lastFailure;
        private long _failedTicks;
        private bool _waiting;
        private bool _ended;

        public Operation(TransferActivity owner, string name)
        {
            _owner = owner;
            _name = name;
            StartedTicks = owner.NowTicks;
        }

        public long StartedTicks { get; }

        public void AttemptStarted()
        {
            lock (_gate)
            {
                _attempts++;
                StopWaiting();
            }
        }

        public void AttemptFailed(Exception error)
        {
            if (error is OperationCanceledException) return; // the caller's stop, or another error's echo
            lock (_gate)
            {
                _lastFailure = error;
                _failedTicks = _owner.NowTicks;
                if (_waiting || _ended || XetHttpTransport.IsSilence(error)) return;
                _waiting = true;
                _owner.EnterRetryWait();
                _owner.Touch();
            }
        }

        public (Exception? LastFailure, long FailedTicks) Snapshot()
        {
            lock (_gate) return (_lastFailure, _failedTicks);
        }

        public string Describe(long now)
        {
            lock (_gate)
            {
                var seconds = (now - StartedTicks) / (double)TicksPerSecond;
                var text = string.Format(CultureInfo.InvariantCulture, "the {0} (attempt {1}, for {2:0.0} s", _name, Math.Max(_attempts, 1), seconds);
                return _lastFailure is null ? text + ")" : text + "; the last attempt: " + _lastFailure.Message.TrimEnd('.') + ")";
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_ended) return;
                _ended = true;
                StopWaiting();
            }
            _owner._operations.TryRemove(this, out _);
        }

        private void StopWaiting()
        {
            Debug.Assert(Monitor.IsEntered(_gate));
            if (!_waiting) return;
            _waiting = false;
            _owner.LeaveRetryWait();
            _owner.Touch();
        }
    }
}
