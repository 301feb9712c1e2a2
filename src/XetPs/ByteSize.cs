using System;
using System.Globalization;

namespace XetPs;

/// <summary>
/// Sizes and rates as people read them ("1.5 GB", "85.2 MB/s", "512 B"), in 1024 steps with the short names
/// PowerShell users know from 1KB/1MB/1GB literals. Used by the table view and by progress text.
/// </summary>
public static class ByteSize
{
    private static readonly string[] Units = ["B", "KB", "MB", "GB", "TB", "PB"];

    public static string Format(long bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.CurrentCulture) + " B";
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        // Three significant digits at most: 1.23 GB, 12.3 GB, 123 GB.
        var format = value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00";
        return value.ToString(format, CultureInfo.CurrentCulture) + " " + Units[unit];
    }

    public static string FormatRate(double bytesPerSecond) =>
        double.IsNaN(bytesPerSecond) || double.IsInfinity(bytesPerSecond) || bytesPerSecond < 0
            ? "-"
            : Format((long)Math.Round(bytesPerSecond)) + "/s";
}
