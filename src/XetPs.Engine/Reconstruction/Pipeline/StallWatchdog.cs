using System;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Reconstruction;

/// <summary>
/// Fails a file when work is pending and the whole session has moved no byte (received or written) and no
/// reconstruction answer for <see cref="XetSessionOptions.StallTimeout"/>. Session-wide progress is the measure on
/// purpose: a file waiting for buffer permits while other files move bytes is queued, not stalled. A request in
/// flight, xorb or reconstruction, counts as progress, its retries and their backoff included: the HTTP layer's
/// timeouts and bounded retries already end a silent or failing one with the true transport error, which must reach
/// the user rather than a stall (a large fetch on a slow link may also legitimately take longer than the stall
/// timeout, its bytes invisible until it completes; a reconstruction request retried 6 times under a 60 s read
/// timeout takes up to 6 minutes). What is left to catch is the reference client's failure: everything waiting on
/// everything else with no request moving. The error says what was waiting, so a stall can be diagnosed from the
/// message alone.
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
        while (true)
        {
            // Waits without throwing when stopped: every file stops its watchdog, and an exception per file was a
            // cost of its own when thousands of small files are downloaded.
            await Task.WhenAny(Task.Delay(period, stop)).ConfigureAwait(false);
            if (stop.IsCancellationRequested) return; // the file finished (or failed): the watchdog's job is over
            if (session.Registry.CasPermitsHeld > 0 || session.Activity.RequestsInFlight > 0) session.Activity.Touch();
            var idle = session.Activity.NowTicks - session.Activity.LastProgressTicks;
            if (idle < limitTicks) continue;
            run.Fail(new XetStallException(path, timeout, describeFile() + "; " + session.Registry.Describe()));
            return;
        }
    }
}
