using System;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Reconstruction;

/// <summary>
/// Fails a file when work is pending and the whole session has moved no byte (received or written) and no
/// reconstruction answer for <see cref="XetSessionOptions.StallTimeout"/>. Session-wide progress is the measure on
/// purpose: a file waiting for buffer permits while other files move bytes is queued, not stalled. The error says
/// what was waiting, so a stall can be diagnosed from the message alone.
/// </summary>
internal static class StallWatchdog
{
    public static async Task RunAsync(SessionResources session, RunState run, string path, Func<string> describeFile,
        CancellationToken stop)
    {
        var timeout = session.Options.StallTimeout;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(20).Ticks, Math.Min(timeout.Ticks / 4, TimeSpan.FromSeconds(1).Ticks)));
        var limitTicks = (long)(timeout.TotalSeconds * TransferActivity.TicksPerSecond);
        session.Activity.Touch();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(period, stop).ConfigureAwait(false);
                var idle = session.Activity.NowTicks - session.Activity.LastProgressTicks;
                if (idle < limitTicks) continue;
                run.Fail(new XetStallException(path, timeout, describeFile() + "; " + session.Registry.Describe()));
                return;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The file finished (or failed): the watchdog's job is over.
        }
    }
}
