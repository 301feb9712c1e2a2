using System;
using System.IO;

namespace XetPs.Reconstruction;

/// <summary>
/// Names the machine's current boot, so a file record can tell whether the machine has restarted since the file was
/// written. Why: a completed file is moved into place without an fsync (one costs a large download a noticeable share of
/// its time, and guards only against a crash of the OS or the power), so its bytes may still be in the page cache
/// when its record calls it up to date; such a record is trusted only in the boot that wrote it, where the page cache
/// is the truth. After a restart the file is hashed once, forced to the device, and recorded as durable.
/// Linux: the kernel's random boot id. Elsewhere: the time of the boot (now minus the milliseconds since it), equal
/// across processes within a few seconds.
/// </summary>
internal static class BootSession
{
    private const string BootIdFile = "/proc/sys/kernel/random/boot_id";
    private static readonly TimeSpan BootTimeTolerance = TimeSpan.FromSeconds(30);
    private static string? _current;

    /// <summary>"id:&lt;boot id&gt;" or "t:&lt;boot time, Unix seconds&gt;".</summary>
    public static string Current => _current ??= Read();

    /// <summary>
    /// When this boot began (UTC): Linux's btime from /proc/stat, else now minus the milliseconds since the boot (a
    /// clock that may stop in sleep, which only moves the time later: a file from before it then counts as from an
    /// earlier boot, the safe side).
    /// </summary>
    public static DateTime StartedAtUtc => _startedAt ??= ReadStart();

    private static DateTime? _startedAt;

    private static DateTime ReadStart()
    {
        try
        {
            if (File.Exists("/proc/stat"))
                foreach (var line in File.ReadLines("/proc/stat"))
                    if (line.StartsWith("btime ", StringComparison.Ordinal) &&
                        long.TryParse(line.Substring(6).Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                        return DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Falls back to the uptime below.
        }
#if NET8_0_OR_GREATER
        return DateTime.UtcNow - TimeSpan.FromMilliseconds(Environment.TickCount64);
#else
        // Wraps after 49 days: the boot then looks later, so a file from before it counts as older (a re-hash, never a wrong trust).
        return DateTime.UtcNow - TimeSpan.FromMilliseconds(unchecked((uint)Environment.TickCount));
#endif
    }

    /// <summary>True when <paramref name="recorded"/> (a <see cref="Current"/> of some earlier time) names this boot.</summary>
    public static bool IsCurrent(string? recorded)
    {
        if (string.IsNullOrEmpty(recorded)) return false;
        var now = Current;
        if (recorded!.StartsWith("t:", StringComparison.Ordinal) && now.StartsWith("t:", StringComparison.Ordinal) &&
            long.TryParse(recorded.Substring(2), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var then) &&
            long.TryParse(now.Substring(2), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var current))
            return Math.Abs(current - then) <= BootTimeTolerance.TotalSeconds;
        return string.Equals(recorded, now, StringComparison.Ordinal);
    }

    private static string Read()
    {
        try
        {
            if (File.Exists(BootIdFile))
            {
                var id = File.ReadAllText(BootIdFile).Trim();
                if (id.Length > 0) return "id:" + id;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A sandbox without /proc: the boot time serves.
        }
        return "t:" + new DateTimeOffset(StartedAtUtc, TimeSpan.Zero).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
