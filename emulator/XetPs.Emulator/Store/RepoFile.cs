using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Emulator.Store;

/// <summary>
/// A file to commit: its repo path and where its bytes come from. Content is opened as a stream when the commit
/// is built and read once, front to back, so a file of any size never sits in memory. A <see cref="CacheKey"/>
/// names content that is a pure function of the key (generated data); a store that has already ingested that key
/// reuses the result without reading the stream again.
/// </summary>
public sealed class RepoFile
{
    private RepoFile(string path, Func<Stream> open, string? cacheKey)
    {
        Path = NormalizePath(path);
        Open = open;
        CacheKey = cacheKey;
    }

    /// <summary>Repo-relative path with '/' separators.</summary>
    public string Path { get; }

    /// <summary>Opens the content; called once per commit that needs the bytes.</summary>
    public Func<Stream> Open { get; }

    /// <summary>Names generated content; equal keys mean equal bytes.</summary>
    public string? CacheKey { get; }

    /// <summary>Overrides the store's size rule: true = Xet, false = plain git file, null = by size.</summary>
    public bool? StoreAsXet { get; init; }

    /// <summary>The same file, stored in Xet (true) or as a plain git file (false) whatever its size.</summary>
    public RepoFile AsXet(bool xet = true) => new(Path, Open, CacheKey) { StoreAsXet = xet, Build = Build };

    /// <summary>Content that is not a stream but built straight into the store (e.g. a file composed of terms over
    /// existing xorbs, the seed incident's shape). Null for ordinary files.</summary>
    internal Func<EmulatorStore, CancellationToken, Task<StoredFile>>? Build { get; private init; }

    internal static RepoFile Built(string path, string cacheKey, Func<EmulatorStore, CancellationToken, Task<StoredFile>> build) =>
        new(path, () => throw new InvalidOperationException($"'{path}' is built in the store, not read from a stream."), cacheKey) { Build = build, StoreAsXet = true };

    public static RepoFile FromBytes(string path, byte[] content)
    {
        if (content is null) throw new ArgumentNullException(nameof(content));
        return new RepoFile(path, () => new MemoryStream(content, writable: false), null);
    }

    public static RepoFile FromText(string path, string text) => FromBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Content from a stream factory; give a <paramref name="cacheKey"/> when the bytes are a pure function of it.</summary>
    public static RepoFile FromStream(string path, Func<Stream> open, string? cacheKey = null) =>
        new(path, open ?? throw new ArgumentNullException(nameof(open)), cacheKey);

    /// <summary>A file on disk, committed at <paramref name="path"/>.</summary>
    public static RepoFile FromFile(string path, string fullPath)
    {
        if (!File.Exists(fullPath)) throw new FileNotFoundException($"Cannot commit '{path}': '{fullPath}' does not exist.", fullPath);
        // Keyed by path, length and write time: restarting the emulator on the same folder reuses what it built.
        var info = new FileInfo(fullPath);
        string key = "file:" + System.IO.Path.GetFullPath(fullPath) + ":" + info.Length + ":" + info.LastWriteTimeUtc.Ticks;
        return new RepoFile(path, () => new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), key);
    }

    /// <summary>Every file under <paramref name="folder"/> (recursively, <c>.git/</c> excluded), at its relative path
    /// under <paramref name="prefix"/>.</summary>
    public static IReadOnlyList<RepoFile> FromFolder(string folder, string prefix = "")
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Cannot commit folder '{folder}': it does not exist.");
        string root = System.IO.Path.GetFullPath(folder);
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => (Full: f, Relative: System.IO.Path.GetRelativePath(root, f).Replace('\\', '/')))
            // A git checkout's own metadata is not repo content (the Hub never lists .git/).
            .Where(f => !f.Relative.Split('/').Contains(".git"))
            .Select(f => FromFile(CombinePrefix(prefix, f.Relative), f.Full))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToArray();
    }

    private static string CombinePrefix(string prefix, string rel) =>
        string.IsNullOrEmpty(prefix) ? rel : prefix.TrimEnd('/') + "/" + rel;

    internal static string NormalizePath(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("A repo file needs a path.", nameof(path));
        string p = path.Replace('\\', '/').Trim('/');
        foreach (string seg in p.Split('/'))
        {
            if (seg.Length == 0 || seg == "." || seg == "..")
                throw new ArgumentException($"'{path}' is not a repo path: empty, '.' or '..' segments are not allowed (hostile paths are a fault, not content).", nameof(path));
        }
        return p;
    }

    public override string ToString() => Path;
}
