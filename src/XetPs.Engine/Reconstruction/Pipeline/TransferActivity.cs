using System.Diagnostics;
using System.Threading;

namespace XetPs.Reconstruction;

/// <summary>
/// Session-wide progress counters: bytes received from the network and bytes written to disk, and when either last
/// moved. The stall watchdog reads them; every task that moves bytes reports here. Lock-free (Interlocked).
/// </summary>
internal sealed class TransferActivity
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _received;
    private long _written;
    private long _lastProgressTicks;
    private int _requestsInFlight;

    public long BytesReceived => Interlocked.Read(ref _received);

    public long BytesWritten => Interlocked.Read(ref _written);

    /// <summary>Elapsed time of the session clock at the last progress.</summary>
    public long LastProgressTicks => Interlocked.Read(ref _lastProgressTicks);

    public long NowTicks => _clock.ElapsedTicks;

    public static long TicksPerSecond => Stopwatch.Frequency;

    public void Received(long bytes)
    {
        Interlocked.Add(ref _received, bytes);
        Touch();
    }

    public void Written(long bytes)
    {
        Interlocked.Add(ref _written, bytes);
        Touch();
    }

    /// <summary>Records progress that moved no payload byte (e.g. a reconstruction answer arrived).</summary>
    public void Touch() => Interlocked.Exchange(ref _lastProgressTicks, _clock.ElapsedTicks);

    /// <summary>Reconstruction requests under way, their retries and backoff included (xorb requests are counted by
    /// the registry's CAS permits). Each is bounded by the transport's timeouts and retries, so the stall watchdog
    /// leaves it to end with its own error.</summary>
    public int RequestsInFlight => Volatile.Read(ref _requestsInFlight);

    /// <summary>Starts counting a request in <see cref="RequestsInFlight"/>; the caller ends it, in a finally.</summary>
    public void RequestStarted() => Interlocked.Increment(ref _requestsInFlight);

    public void RequestEnded() => Interlocked.Decrement(ref _requestsInFlight);
}
