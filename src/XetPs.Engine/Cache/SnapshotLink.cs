using System;
using System.IO;
using System.Text;
using XetPs.Reconstruction;

namespace XetPs.Cache;

/// <summary>
/// The entry of a file in a snapshot folder, made as huggingface_hub makes it: a symlink to the blob with a relative
/// target (<c>../../blobs/&lt;etag&gt;</c>, deeper for nested paths), so the cache still works after it is moved; where
/// symlinks cannot be made (Windows without Developer Mode or admin rights, some file systems, HF_HUB_DISABLE_SYMLINKS),
/// the file itself: a blob just downloaded is moved into the snapshot, an existing blob is copied (it may serve other
/// snapshots), as huggingface_hub's <c>_create_symlink</c> does. Invariant: a snapshot entry appears whole or not at
/// all (the copy is written beside the blob and renamed into place).
/// </summary>
internal static partial class SnapshotLink
{
    /// <summary>
    /// Makes <paramref name="pointer"/> stand for <paramref name="blob"/>, replacing whatever was there. Returns true for
    /// a symlink, false when the file itself was put there.
    /// </summary>
    public static bool Create(string blob, string pointer, bool newBlob, bool symlinks)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        WorkFiles.TryDelete(pointer);
        if (symlinks && TryCreateSymlink(pointer, RelativeTarget(pointer, blob))) return true;
        if (newBlob)
        {
            FileReconstructor.MoveIntoPlace(blob, pointer);
            return false;
        }
        var copy = blob + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".incomplete";
        try
        {
            File.Copy(blob, copy, overwrite: true);
            FileReconstructor.MoveIntoPlace(copy, pointer);
        }
        finally
        {
            WorkFiles.TryDelete(copy);
        }
        return false;
    }

    /// <summary>
    /// Whether symlinks can be made under <paramref name="folder"/>: tried once in a scratch folder there, as
    /// huggingface_hub's <c>are_symlinks_supported</c> does in the cache folder.
    /// </summary>
    public static bool Probe(string folder)
    {
        var scratch = Path.Combine(folder, ".xetps-symlink-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(scratch);
            File.WriteAllBytes(Path.Combine(scratch, "source"), Array.Empty<byte>());
            return TryCreateSymlink(Path.Combine(scratch, "link"), "source");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A leftover probe folder under .locks is harmless: no cache scan looks there.
            }
        }
    }

    /// <summary>True when <paramref name="path"/> is a symlink (or another reparse point), not a file.</summary>
    public static bool IsLink(string path) => (new FileInfo(path).Attributes & FileAttributes.ReparsePoint) != 0;

    /// <summary>The path of <paramref name="target"/> relative to the folder of <paramref name="link"/> (both full paths).</summary>
    public static string RelativeTarget(string link, string target)
    {
        var from = Path.GetDirectoryName(Path.GetFullPath(link))!.Split(Path.DirectorySeparatorChar);
        var to = Path.GetFullPath(target).Split(Path.DirectorySeparatorChar);
        var common = 0;
        while (common < from.Length && common < to.Length - 1 && string.Equals(from[common], to[common], StringComparison.Ordinal)) common++;
        var relative = new StringBuilder();
        for (var i = common; i < from.Length; i++) relative.Append("..").Append(Path.DirectorySeparatorChar);
        for (var i = common; i < to.Length; i++)
        {
            relative.Append(to[i]);
            if (i < to.Length - 1) relative.Append(Path.DirectorySeparatorChar);
        }
        return relative.ToString();
    }
}
