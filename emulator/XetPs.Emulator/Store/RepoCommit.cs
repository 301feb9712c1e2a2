using System;
using System.Collections.Generic;

namespace XetPs.Emulator.Store;

/// <summary>A file as a commit holds it. <see cref="XetHash"/> is the §5.5 string form, null for plain git files.
/// <see cref="GitOid"/> is the git blob id: of the content for plain files, of the LFS pointer for Xet files.</summary>
public sealed record StoredFile(string Path, long Size, string Sha256, string GitOid, string? XetHash)
{
    public bool IsXet => XetHash is not null;

    /// <summary>Size of the LFS pointer text (tree <c>lfs.pointerSize</c>).</summary>
    public int PointerSize => LfsPointer.Text(Sha256, Size).Length;
}

/// <summary>A commit: a full snapshot of the repo's files (sorted by path), its parent and title.</summary>
public sealed record RepoCommit(string Id, string? Parent, string Title, DateTimeOffset Date, IReadOnlyList<StoredFile> Files);

/// <summary>What a commit does besides adding or replacing the given files.</summary>
public sealed class CommitOptions
{
    public string? Title { get; set; }

    /// <summary>Start from an empty tree instead of the branch head.</summary>
    public bool ReplaceAll { get; set; }

    /// <summary>Paths to remove from the tree.</summary>
    public IList<string> Delete { get; } = new List<string>();

    /// <summary>Compression for every new chunk; null = per-chunk choice (BG4 for float-like, else LZ4, None when it does not shrink).</summary>
    public Format.CompressionScheme? Compression { get; set; }

    /// <summary>Overrides the server's Xet min size for this commit.</summary>
    public long? XetMinSize { get; set; }

    /// <summary>Branch to fork from when the target branch does not exist yet (default: a new root).</summary>
    public string? BranchFrom { get; set; }
}

/// <summary>The git-lfs pointer text that a Xet file's git blob holds.</summary>
internal static class LfsPointer
{
    public static string Text(string sha256, long size) =>
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256 + "\nsize " + size.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n";
}
