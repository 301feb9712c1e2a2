using System.Globalization;
using System.IO;

namespace XetPs;

/// <summary>
/// The volume that would hold a file has less free space than the file still needs: the download fails before its
/// first byte instead of hours later with the disk full, and nothing is written.
/// </summary>
public sealed class XetInsufficientDiskSpaceException : IOException
{
    public XetInsufficientDiskSpaceException(string destinationPath, long bytesNeeded, long bytesAvailable, long bytesPromised = 0)
        : base($"Not enough free space to save '{destinationPath}': it needs {Describe(bytesNeeded)} more and its volume has " +
               $"{Describe(bytesAvailable)} free" +
               (bytesPromised > 0 ? $", of which {Describe(bytesPromised)} are still to be written by files downloading at the same time" : "") +
               ". Free some space or choose another destination. Nothing was written.")
    {
        DestinationPath = destinationPath;
        BytesNeeded = bytesNeeded;
        BytesAvailable = bytesAvailable;
        BytesPromised = bytesPromised;
    }

    public string DestinationPath { get; }

    /// <summary>Bytes still to write: the file's size less what an earlier run left to resume from.</summary>
    public long BytesNeeded { get; }

    /// <summary>Bytes free to this user on the destination's volume when the download was about to start.</summary>
    public long BytesAvailable { get; }

    /// <summary>Of <see cref="BytesAvailable"/>, what other downloads of the session into the same folder have yet to write.</summary>
    public long BytesPromised { get; }

    /// <summary>"123,456,789 bytes (117.7 MiB)": exact for scripts that compare, rounded for people.</summary>
    private static string Describe(long bytes)
    {
        string[] units = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double value = bytes;
        var unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        var exact = bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes";
        return unit < 0 ? exact : exact + " (" + value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit] + ")";
    }
}
