using System;
using System.IO;

namespace XetPs.Reconstruction;

/// <summary>
/// Checks, before a download starts, that the destination's volume can hold what the file still needs. Why: an
/// unattended night run of a 100 GB file on a nearly full disk should fail in the first second with the sizes, not
/// after hours with "No space left on device". Best effort, leaning towards letting a download start: where the
/// volume's free space cannot be read (a UNC share, a pseudo or network file system that reports no capacity), the
/// check is skipped and the write itself reports a full disk, as before. The space counted is what this user may
/// use (statvfs f_bavail; root's reserved blocks are not counted). Files downloading at the same time are checked
/// one by one, each against the space free when it starts.
/// </summary>
internal static class DiskSpace
{
    /// <summary>
    /// Throws <see cref="XetInsufficientDiskSpaceException"/> when the volume of <paramref name="destinationPath"/>'s
    /// work folder has less free space than <paramref name="size"/> less the bytes of a partial file an earlier run
    /// left (a resume writes only the rest). The old file at the destination, if any, is not counted as free: it stays
    /// until the new one is complete.
    /// </summary>
    public static void EnsureRoomFor(string destinationPath, string repoPath, long size)
    {
        var partialPath = ResumeJournal.PartialPathFor(destinationPath, repoPath);
        var needed = size - Math.Min(PartialLength(partialPath), size);
        if (needed <= 0) return;
        if (AvailableBytes(Path.GetDirectoryName(partialPath)!) is { } available && available < needed)
            throw new XetInsufficientDiskSpaceException(destinationPath, needed, available);
    }

    /// <summary>
    /// Bytes free to this user on the volume that holds <paramref name="path"/> (or its nearest existing parent
    /// folder); null when that cannot be known.
    /// </summary>
    public static long? AvailableBytes(string path)
    {
        try
        {
            var existing = Path.GetFullPath(path);
            while (!Directory.Exists(existing))
            {
                existing = Path.GetDirectoryName(existing);
                if (string.IsNullOrEmpty(existing)) return null;
            }
            // Windows names a volume by its drive root ("D:\"); elsewhere any path on it will do (statvfs).
            var volume = Path.DirectorySeparatorChar == '\\' ? Path.GetPathRoot(existing) : existing;
            if (string.IsNullOrEmpty(volume)) return null;
            var drive = new DriveInfo(volume);
            // A volume with no capacity at all (/proc, some FUSE mounts) says nothing about what a write can use.
            return drive.TotalSize > 0 ? drive.AvailableFreeSpace : null;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or NotSupportedException
                                      or System.Security.SecurityException)
        {
            return null;
        }
    }

    private static long PartialLength(string partialPath)
    {
        try
        {
            var info = new FileInfo(partialPath);
            return info.Exists ? info.Length : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
