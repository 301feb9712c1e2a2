using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>
/// What we know about a file we downloaded, kept under <c>&lt;destination root&gt;/.cache/xetps/&lt;repo path&gt;.meta</c>
/// (like huggingface_hub's local-dir metadata), so a later run can tell "already up to date" from size and mtime
/// without hashing the file again. Invariant: a record is trusted only while the file's size and last-write time
/// are the ones recorded, and only if the file's bytes are known to be on the device (<see cref="Synced"/>) or the
/// machine has not restarted since the record was written (<see cref="Boot"/>, see <see cref="BootSession"/>); any
/// edit of the file invalidates it, and a restart an unsynced one, and the file is hashed once more.
/// A record without either field was written by a version that did neither: it is trusted as it was then.
/// <see cref="Verified"/> says whether the file's bytes were checked against <see cref="Identity"/> (downloaded with
/// verification, or hashed since): a record of an unverified download vouches for nothing but which download wrote the
/// file, so a verifying run hashes that file once before it calls it up to date. A record without the field predates
/// it and is taken as unverified.
/// </summary>
internal sealed record LocalFileRecord(string Identity, long Size, long LastWriteTicks, string? Boot = null, bool Synced = false,
    bool Verified = false)
{
    /// <summary>The identity of a repo file's content: its Xet id, else its sha256, else its git blob id.</summary>
    public static string? IdentityOf(RepoEntry entry) =>
        entry.XetHash is { } xet ? "xet:" + xet.ToLowerInvariant()
        : entry.Sha256 is { } sha ? "sha256:" + sha.ToLowerInvariant()
        : entry.GitOid is { } oid ? "git:" + oid.ToLowerInvariant()
        : null;

    /// <summary>
    /// Where the record of <paramref name="destinationPath"/> lives: under the root the repo path was placed in when
    /// the destination ends with it, else in the file's folder.
    /// </summary>
    public static string PathFor(string destinationPath, string repoPath)
    {
        var (root, relative) = Locate(destinationPath, repoPath);
        return Path.Combine(CacheFolder(root), relative + ".meta");
    }

    /// <summary>
    /// The destination root of <paramref name="destinationPath"/> (the folder <paramref name="repoPath"/> was placed
    /// under when the destination ends with it, else the file's own folder) and the destination's path relative to
    /// that root. Distinct destinations under one root have distinct relative paths.
    /// </summary>
    public static (string Root, string Relative) Locate(string destinationPath, string repoPath)
    {
        var full = Path.GetFullPath(destinationPath);
        var relative = repoPath.Replace('/', Path.DirectorySeparatorChar);
        if (full.EndsWith(Path.DirectorySeparatorChar + relative, StringComparison.Ordinal))
            return (full.Substring(0, full.Length - relative.Length - 1), relative);
        return (Path.GetDirectoryName(full) ?? ".", Path.GetFileName(full));
    }

    /// <summary>Where XetPs keeps its own files under a destination root (records, partial files, journals).</summary>
    public static string CacheFolder(string root) => WorkFolder.PathFor(root);

    /// <summary>A record from its text, or null when the text is not a whole record (empty, cut short, foreign).</summary>
    public static LocalFileRecord? Parse(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var eq = line.IndexOf('=');
            if (eq > 0) values[line.Substring(0, eq)] = line.Substring(eq + 1).TrimEnd('\r');
        }
        if (values.TryGetValue("identity", out var identity) &&
            values.TryGetValue("size", out var size) && long.TryParse(size, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) &&
            values.TryGetValue("mtime", out var mtime) && long.TryParse(mtime, NumberStyles.Integer, CultureInfo.InvariantCulture, out var m))
            return new LocalFileRecord(identity, s, m, values.TryGetValue("boot", out var boot) ? boot : null,
                values.TryGetValue("synced", out var synced) && synced == "1",
                values.TryGetValue("verified", out var verified) && verified == "1");
        return null;
    }

    /// <summary>
    /// The text of the record of <paramref name="file"/> as <paramref name="identity"/>: its size and mtime now, the
    /// current boot, whether its bytes were forced to the device (<paramref name="synced"/>) and whether they were
    /// checked against the identity (<paramref name="verified"/>).
    /// </summary>
    public static string Format(string identity, FileInfo file, bool synced, bool verified) => new StringBuilder()
        .Append("identity=").Append(identity).Append('\n')
        .Append("size=").Append(file.Length.ToString(CultureInfo.InvariantCulture)).Append('\n')
        .Append("mtime=").Append(file.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\n')
        .Append("boot=").Append(BootSession.Current).Append('\n')
        .Append("synced=").Append(synced ? '1' : '0').Append('\n')
        .Append("verified=").Append(verified ? '1' : '0').Append('\n')
        .ToString();

    /// <summary>True when the record still describes the file on disk, and the file's bytes can be trusted to be
    /// there: forced to the device, or written in this boot (or recorded by a version that kept neither).</summary>
    public bool Describes(FileInfo file, string identity) =>
        string.Equals(Identity, identity, StringComparison.Ordinal) && IsOf(file) && (Synced || Boot is null || BootSession.IsCurrent(Boot));

    /// <summary>True when <paramref name="file"/> is unchanged since the record was written (same size and last-write
    /// time): the file is the one a download of ours left there, whatever its content is worth.</summary>
    public bool IsOf(FileInfo file) => file.Length == Size && file.LastWriteTimeUtc.Ticks == LastWriteTicks;
}
