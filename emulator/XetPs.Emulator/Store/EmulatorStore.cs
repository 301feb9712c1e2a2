using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Emulator.Store;

/// <summary>
/// The emulator's on-disk store: content-addressed xorbs and file reconstructions, plain git blobs, a chunk index
/// for dedup across files and revisions, and repos with branches and commits as small JSON files. Reused across
/// runs: content keyed by a <see cref="RepoFile.CacheKey"/> (generated data, folder files) is built once per store.
/// Commits are serialized by one lock; reads run concurrently with them (a commit becomes visible when its branch
/// ref is replaced, after every xorb and file record it needs is on disk). Here: repos, branches and commits; how
/// files are taken in is in EmulatorStore.Ingest.cs, how their content is served in EmulatorStore.Content.cs.
/// </summary>
public sealed partial class EmulatorStore
{
    private readonly EmulatorOptions _options;
    private readonly SemaphoreSlim _commitLock = new(1, 1);
    private readonly ConcurrentDictionary<RepoId, RepoState> _repos = new();
    private readonly ConcurrentDictionary<XetHash, FileRecord> _files = new();
    private readonly ConcurrentDictionary<RepoId, HashSet<XetHash>> _repoFiles = new();

    internal EmulatorStore(string directory, EmulatorOptions options)
    {
        Directory = System.IO.Path.GetFullPath(directory);
        _options = options;
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.Directory.CreateDirectory(System.IO.Path.Combine(Directory, "files"));
        System.IO.Directory.CreateDirectory(System.IO.Path.Combine(Directory, "blobs"));
        System.IO.Directory.CreateDirectory(System.IO.Path.Combine(Directory, "cache"));
        Xorbs = new XorbCatalog(Directory);
        Chunks = new ChunkIndex(Directory);
    }

    /// <summary>The store's root folder.</summary>
    public string Directory { get; }

    internal XorbCatalog Xorbs { get; }
    internal ChunkIndex Chunks { get; }

    /// <summary>Number of distinct chunks stored (dedup shows as this growing less than the bytes committed).</summary>
    public int ChunkCount => Chunks.Count;

    /// <summary>The repos in the store.</summary>
    public IReadOnlyList<RepoId> Repos
    {
        get
        {
            var list = new List<RepoId>();
            string root = System.IO.Path.Combine(Directory, "repos");
            foreach (var (kind, type) in new[] { ("models", RepoType.Model), ("datasets", RepoType.Dataset), ("spaces", RepoType.Space) })
            {
                string dir = System.IO.Path.Combine(root, kind);
                if (!System.IO.Directory.Exists(dir)) continue;
                foreach (string org in System.IO.Directory.EnumerateDirectories(dir))
                    foreach (string name in System.IO.Directory.EnumerateDirectories(org))
                        if (File.Exists(System.IO.Path.Combine(name, "repo.json")))
                            list.Add(new RepoId(type, System.IO.Path.GetFileName(org) + "/" + System.IO.Path.GetFileName(name)));
            }
            return list;
        }
    }

    /// <summary>Creates the repo when missing and sets whether it is private (private repos need an accepted Hub token).</summary>
    public void CreateRepo(RepoId repo, bool isPrivate = false)
    {
        _commitLock.Wait();
        try
        {
            var state = GetState(repo) ?? _repos.GetOrAdd(repo, r => RepoState.Create(Directory, r, isPrivate));
            lock (state) { state.IsPrivate = isPrivate; state.SaveRefs(); }
        }
        finally { _commitLock.Release(); }
    }

    public bool Exists(RepoId repo) => GetState(repo) is not null;

    public bool IsPrivate(RepoId repo) => GetState(repo) is { } s && s.IsPrivate;

    /// <summary>The commit a branch name or a full commit id names, or null.</summary>
    public RepoCommit? Resolve(RepoId repo, string revision)
    {
        var state = GetState(repo);
        if (state is null) return null;
        lock (state) return state.Resolve(revision);
    }

    /// <summary>The branch heads of a repo.</summary>
    public IReadOnlyDictionary<string, string> Branches(RepoId repo)
    {
        var state = GetState(repo) ?? throw new KeyNotFoundException($"The store has no repo {repo}.");
        lock (state) return new Dictionary<string, string>(state.Branches, StringComparer.Ordinal);
    }

    /// <summary>Points <paramref name="branch"/> at the commit <paramref name="fromRevision"/> names.</summary>
    public RepoCommit CreateBranch(RepoId repo, string branch, string fromRevision)
    {
        ValidateBranch(branch);
        _commitLock.Wait();
        try
        {
            var state = GetState(repo) ?? throw new KeyNotFoundException($"The store has no repo {repo}.");
            lock (state)
            {
                var commit = state.Resolve(fromRevision) ?? throw new KeyNotFoundException($"Repo {repo} has no revision '{fromRevision}'.");
                state.Branches[branch] = commit.Id;
                state.SaveRefs();
                return commit;
            }
        }
        finally { _commitLock.Release(); }
    }

    /// <summary>
    /// Commits <paramref name="files"/> on <paramref name="branch"/> (created when missing, the repo too): added or
    /// replaced on top of the branch head. Returns the new commit, or the head itself when the tree did not change.
    /// </summary>
    public async Task<RepoCommit> CommitAsync(RepoId repo, string branch, IEnumerable<RepoFile> files, CommitOptions? options = null,
                                              CancellationToken cancellationToken = default)
    {
        if (repo is null) throw new ArgumentNullException(nameof(repo));
        ValidateBranch(branch);
        options ??= new CommitOptions();
        var list = files.ToList();
        var dup = list.GroupBy(f => f.Path, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"The commit names '{dup.Key}' twice.", nameof(files));

        await _commitLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = GetState(repo) ?? _repos.GetOrAdd(repo, r => RepoState.Create(Directory, r, isPrivate: false));
            RepoCommit? head, from;
            lock (state)
            {
                head = state.Resolve(branch);
                from = options.ReplaceAll ? null : head ?? (options.BranchFrom is { } bf ? state.Resolve(bf) : null);
            }
            var tree = new SortedDictionary<string, StoredFile>(StringComparer.Ordinal);
            if (from is not null) foreach (var f in from.Files) tree[f.Path] = f;
            foreach (string d in options.Delete) tree.Remove(RepoFile.NormalizePath(d));

            var packer = new XorbPacker(Xorbs, Chunks, options.Compression);
            var pending = new List<IngestedFile>();
            var cacheWrites = new List<(string, StoredFile)>();
            long minSize = options.XetMinSize ?? _options.XetMinSize;
            foreach (var file in list)
            {
                cancellationToken.ThrowIfCancellationRequested();
                tree[file.Path] = await AddFileAsync(file, packer, pending, cacheWrites, minSize, options.Compression, cancellationToken).ConfigureAwait(false);
            }
            packer.Seal();
            foreach (var f in pending) SaveFileRecord(f);
            foreach (var (cacheFile, stored) in cacheWrites) WriteCache(cacheFile, stored);
            CheckNoPathIsAlsoAFolder(tree.Keys);

            string title = options.Title ?? (list.Count == 1 ? "Upload " + list[0].Path : $"Upload {list.Count} files");
            var filesSorted = tree.Values.ToArray();
            if (head is not null && head.Files.SequenceEqual(filesSorted)) return head;
            string? parent = head?.Id ?? from?.Id;
            var commit = new RepoCommit(CommitId(parent, title, filesSorted), parent, title, DateTimeOffset.UtcNow, filesSorted);
            lock (state)
            {
                state.SaveCommit(commit);
                state.Branches[branch] = commit.Id;
                state.SaveRefs();
            }
            _repoFiles.TryRemove(repo, out _);
            return commit;
        }
        finally { _commitLock.Release(); }
    }

    private RepoState? GetState(RepoId repo)
    {
        if (_repos.TryGetValue(repo, out var s)) return s;
        var loaded = RepoState.Load(Directory, repo);
        return loaded is null ? null : _repos.GetOrAdd(repo, loaded);
    }

    private static void CheckNoPathIsAlsoAFolder(IEnumerable<string> paths)
    {
        var set = new HashSet<string>(paths, StringComparer.Ordinal);
        foreach (string p in set)
        {
            for (int i = p.IndexOf('/'); i > 0; i = p.IndexOf('/', i + 1))
                if (set.Contains(p.Substring(0, i)))
                    throw new ArgumentException($"'{p.Substring(0, i)}' cannot be both a file and a folder in one tree.");
        }
    }

    private static void ValidateBranch(string branch)
    {
        if (string.IsNullOrWhiteSpace(branch) || branch.Contains("..", StringComparison.Ordinal) || branch.StartsWith('/') || branch.EndsWith('/'))
            throw new ArgumentException($"'{branch}' is not a branch name.", nameof(branch));
    }

    internal static string GitBlobOid(byte[] content)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes("blob " + content.Length + "\0"));
        sha1.AppendData(content);
        return Convert.ToHexString(sha1.GetHashAndReset()).ToLowerInvariant();
    }

    private static string CommitId(string? parent, string title, IEnumerable<StoredFile> files)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.UTF8.GetBytes((parent ?? "") + "\n" + title + "\n"));
        foreach (var f in files) sha1.AppendData(Encoding.UTF8.GetBytes(f.Path + "\0" + f.GitOid + "\0" + (f.XetHash ?? "") + "\n"));
        return Convert.ToHexString(sha1.GetHashAndReset()).ToLowerInvariant();
    }
}
