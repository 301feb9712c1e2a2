using System;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Reconstruction;

/// <summary>
/// Fails a file when it has work pending and the whole session has moved no byte, received in a response body or
/// written to a file, for <see cref="XetSessionOptions.StallTimeout"/>. Progress means bytes: a request in flight
/// that brings none is no progress, so a server gone silent before its headers or mid-body ends the file after the
/// stall timeout, whatever the read timeout and the retries left (a server that trickles moves bytes: the
/// transport's low-speed limit cuts it). Session-wide on purpose: a file waiting for buffer permits while other files
/// move bytes is queued, not stalled. What it exists for: the reference client's failure, everything waiting on
/// everything else with no request moving.
///
/// Which error the user sees, the most telling one: while a request waits to retry after the server answered with
/// an error (a 5xx, a 429 and its Retry-After, a reset, a refused connection), the clock stands still, because the
/// retry policy bounds that wait and ends it with the server's own words, which say more than "stalled". Silence
/// says nothing more than the watchdog does, so it never stops the clock; when the watchdog fires, its
/// <see cref="XetStallException"/> says what was waiting (the file's state, the requests in flight with their
/// attempts and last failure, the registry), with the newest of those failures as its inner exception.
/// </summary>
internal static class StallWatchdog
{
    public static async Task RunAsync(SessionResources session, RunState run, string path, Func<string> describeFile,
        CancellationToken stop)
    {
        var timeout = session.Options.StallTimeout;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(20).Ticks, Math.Min(timeout.Ticks / 4, TimeSpan.FromSeconds(1).Ticks)));
        var limitTicks = (long)(timeout.TotalSeconds * TransferActivity.TicksPerSecond);
        var activity = session.Activity;
        var overslept = 2 * period.Ticks * TransferActivity.TicksPerSecond / TimeSpan.TicksPerSecond;
        activity.Touch();
        var woke = activity.NowTicks;
        while (true)
        {
            // Waits without throwing when stopped: every file stops its watchdog, and an exception per file was a
            // cost of its own when thousands of small files are downloaded.
            await Task.WhenAny(Task.Delay(period, stop)).ConfigureAwait(false);
            if (stop.IsCancellationRequested) return; // the file finished (or failed): the watchdog's job is over
            var slept = activity.NowTicks - woke;
            woke = activity.NowTicks;
            // Woken far later than asked, the watchdog was not running (the machine slept, the process was paused):
            // nothing could move bytes meanwhile, so that time is not held against the download. So is the wait of a
            // request to retry after an error answer (see the summary).
            if (slept > overslept || activity.RetryWaits > 0) activity.Touch();
            var idle = activity.NowTicks - activity.LastProgressTicks;
            if (idle < limitTicks) continue;
            var requests = activity.DescribeRequests(out var lastFailure);
            run.Fail(new XetStallException(path, timeout, describeFile() + "; " + requests + "; " + session.Registry.Describe(), lastFailure));
            return;
        }
    }
}
