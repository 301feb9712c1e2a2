using System;
using System.IO;
using System.Text;

namespace XetPs.Reconstruction;

/// <summary>
/// Maps a repo path to a local path under a destination root. Invariant: the result always lies inside the root
/// and every segment is an ordinary file name on Windows and Unix alike, whatever the server sent; anything else is
/// refused with <see cref="UnsafeRepoPathException"/> before a byte is written.
/// </summary>
public static class SafePath
{
    /// <summary>The longest file or folder name, in UTF-8 bytes, that every common file system accepts.</summary>
    public const int MaxSegmentBytes = 255;

    private static readonly string[] ReservedNames =
    [
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
        "COM\u00B9", "COM\u00B2", "COM\u00B3", "LPT\u00B9", "LPT\u00B2", "LPT\u00B3",
    ];

    /// <summary>Joins <paramref name="repoPath"/> ('/'-separated) under <paramref name="destinationRoot"/>.</summary>
    public static string Combine(string destinationRoot, string repoPath)
    {
        if (destinationRoot is null) throw new ArgumentNullException(nameof(destinationRoot));
        if (repoPath is null) throw new ArgumentNullException(nameof(repoPath));
        if (repoPath.Length == 0) throw new UnsafeRepoPathException(repoPath, "it is empty");
        if (repoPath.Length > 4096) throw new UnsafeRepoPathException(repoPath.Substring(0, 64) + "...", "it is longer than 4096 characters");
        if (repoPath[0] == '/' || repoPath[0] == '\\') throw new UnsafeRepoPathException(repoPath, "it is absolute");
        if (repoPath.Length >= 2 && repoPath[1] == ':') throw new UnsafeRepoPathException(repoPath, "it names a drive");

        var root = Path.GetFullPath(destinationRoot);
        var segments = repoPath.Split('/');
        var result = root;
        foreach (var segment in segments)
        {
            CheckSegment(repoPath, segment);
            result = Path.Combine(result, segment);
        }

        // Belt and braces: whatever the platform's rules, the full path must stay under the root.
        var full = Path.GetFullPath(result);
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal)
            ? root
            : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal))
            throw new UnsafeRepoPathException(repoPath, "it resolves outside the destination folder");
        return full;
    }

    private static void CheckSegment(string repoPath, string segment)
    {
        if (segment.Length == 0) throw new UnsafeRepoPathException(repoPath, "it has an empty segment ('//' or a trailing '/')");
        if (segment == "." || segment == "..") throw new UnsafeRepoPathException(repoPath, $"it has a '{segment}' segment");
        // File systems count a name in bytes (ext4: 255 bytes of UTF-8) or in UTF-16 units (NTFS: 255); UTF-8 never
        // takes fewer bytes than UTF-16 takes units, so 255 UTF-8 bytes fit both.
        var bytes = Encoding.UTF8.GetByteCount(segment);
        if (bytes > MaxSegmentBytes)
            throw new UnsafeRepoPathException(repoPath,
                $"a segment is {bytes} bytes long in UTF-8, more than the {MaxSegmentBytes} bytes file systems allow in a file name");
        foreach (var c in segment)
        {
            if (c < 32) throw new UnsafeRepoPathException(repoPath, "it contains a control character");
            if (c is '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|')
                throw new UnsafeRepoPathException(repoPath, $"it contains '{c}', which Windows refuses in file names");
        }
        var last = segment[segment.Length - 1];
        if (last is '.' or ' ')
            throw new UnsafeRepoPathException(repoPath, $"the segment '{segment}' ends with a {(last == '.' ? "dot" : "space")}, which Windows strips");
        var stem = segment;
        var dot = stem.IndexOf('.');
        if (dot >= 0) stem = stem.Substring(0, dot);
        stem = stem.TrimEnd(' ');
        foreach (var reserved in ReservedNames)
        {
            if (string.Equals(stem, reserved, StringComparison.OrdinalIgnoreCase))
                throw new UnsafeRepoPathException(repoPath, $"'{segment}' is a Windows device name");
        }
    }
}
