using System;
using System.Globalization;
using System.IO;
using XetPs.Reconstruction;

namespace XetPs.Cache;

/// <summary>
/// huggingface_hub's record of a file it downloaded into a plain folder (<c>hf download --local-dir</c>):
/// <c>&lt;root&gt;/.cache/huggingface/download/&lt;repo path&gt;.metadata</c>, three lines: the commit, the etag (the
/// sha256 of an LFS/Xet file, else the git blob id) and the Unix time it was written (<c>time.time()</c>, a float).
/// huggingface_hub trusts it while the file's mtime is at most a second past that time (<c>read_download_metadata</c>).
/// XetPs writes it beside its own record, so huggingface_hub finds a folder XetPs filled up to date, and reads it, so a
/// folder <c>hf download</c> filled is known (its commit offline; its files are then checked by XetPs's trust rules).
/// The file is replaced atomically (huggingface_hub reads it under its lock; a rename keeps any reader whole).
/// </summary>
internal sealed record LocalDirMetadata(string Commit, string Etag, double Timestamp)
{
    private static readonly DateTime UnixEpoch = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The metadata file of <paramref name="repoPath"/> saved under <paramref name="root"/>.</summary>
    public static string PathFor(string root, string repoPath) =>
        SafePath.Combine(Path.Combine(root, ".cache", "huggingface", "download"), repoPath) + ".metadata";

    /// <summary>The metadata of <paramref name="repoPath"/>, or null when there is none or it is not three valid lines.</summary>
    public static LocalDirMetadata? Read(string root, string repoPath)
    {
        try
        {
            var path = PathFor(root, repoPath);
            if (!File.Exists(path)) return null;
            var lines = File.ReadAllText(path).Split('\n');
            if (lines.Length < 3) return null;
            var commit = lines[0].Trim();
            var etag = lines[1].Trim();
            if (commit.Length == 0 || etag.Length == 0) return null;
            return double.TryParse(lines[2].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var timestamp)
                ? new LocalDirMetadata(commit, etag, timestamp)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UnsafeRepoPathException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="file"/> was not modified after the metadata was written (huggingface_hub's rule: one second of slack).</summary>
    public bool Describes(FileInfo file) =>
        file.Exists && (file.LastWriteTimeUtc - UnixEpoch).TotalSeconds - 1 <= Timestamp;

    /// <summary>
    /// Records that the file at <paramref name="repoPath"/> under <paramref name="root"/> is <paramref name="etag"/> of
    /// <paramref name="commit"/>, now. Best effort: without it huggingface_hub hashes an LFS file once, or downloads a
    /// plain one again. Creates, as huggingface_hub does, <c>.cache/huggingface/.gitignore</c> ("*") and its CACHEDIR.TAG.
    /// </summary>
    public static void Write(string root, string repoPath, string commit, string etag)
    {
        try
        {
            var path = PathFor(root, repoPath);
            var folder = Path.Combine(root, ".cache", "huggingface");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var gitignore = Path.Combine(folder, ".gitignore");
            if (!File.Exists(gitignore)) File.WriteAllText(gitignore, "*");
            CacheDirTag.Ensure(folder);
            var now = (DateTime.UtcNow - UnixEpoch).TotalSeconds;
            var temporary = path + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
            File.WriteAllText(temporary, $"{commit}\n{etag}\n{now.ToString("0.000000", CultureInfo.InvariantCulture)}\n");
            try
            {
                FileReconstructor.MoveIntoPlace(temporary, path);
            }
            catch
            {
                WorkFiles.TryDelete(temporary);
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UnsafeRepoPathException)
        {
            // huggingface_hub then checks the file itself.
        }
    }
}
