using System;
using System.Threading;

namespace XetPs.Emulator;

/// <summary>
/// A clock that moves only when told, for <see cref="EmulatorServer.Clock"/>: expire CAS tokens and presigned URLs
/// in a test without sleeping. Only the expiry checks read it; delays (stalls, latency, pacing) stay real time.
/// </summary>
public sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public ManualClock(DateTimeOffset? start = null) => _ticks = (start ?? DateTimeOffset.UtcNow).UtcTicks;

    public DateTimeOffset Now
    {
        get => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _ticks, value.UtcTicks);
    }

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => Now;
}
