using System;
using System.IO;

namespace XetPs.Cache;

/// <summary>.NET 8: the platform's own symlink calls.</summary>
internal static partial class SnapshotLink
{
    private static bool TryCreateSymlink(string link, string target)
    {
        try
        {
            File.CreateSymbolicLink(link, target);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // no privilege (Windows), or a file system without symlinks
        }
    }

    /// <summary>The file <paramref name="path"/> finally stands for (itself when it is no link), or null for a broken link.</summary>
    public static string? FinalTarget(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null) return info.Exists ? info.FullName : null;
        var target = info.ResolveLinkTarget(returnFinalTarget: true);
        return target is { Exists: true } ? Path.GetFullPath(target.FullName) : null;
    }
}
