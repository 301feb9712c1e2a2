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
/// ref is replaced, after every xorb and file record it needs is on disk).
/// </summary>
public sealed class EmulatorStore
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

    private async Task<StoredFile> AddFileAsync(RepoFile file, XorbPacker packer, List<IngestedFile> pending, List<(string, StoredFile)> cacheWrites,
                                                long minSize, CompressionScheme? compression, CancellationToken ct)
    {
        string? cacheFile = null;
        if (file.CacheKey is not null)
        {
            string key = $"{file.CacheKey}|min={minSize}|as={file.StoreAsXet}|c={compression}";
            cacheFile = System.IO.Path.Combine(Directory, "cache", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant() + ".json");
            if (TryReadCache(cacheFile, file.Path) is { } cached) return cached;
        }

        StoredFile stored;
        if (file.Build is not null)
        {
            // Built content seals its own xorbs: seal ours first so the dedup index is complete for it.
            packer.Seal();
            foreach (var f in pending) SaveFileRecord(f);
            pending.Clear();
            stored = await file.Build(this, ct).ConfigureAwait(false) with { Path = file.Path };
        }
        else
        {
            await using var content = file.Open();
            byte[] prefix = Array.Empty<byte>();
            bool xet;
            if (file.StoreAsXet is bool forced) xet = forced;
            else if (minSize == 0) xet = true;
            else if (content.CanSeek) xet = content.Length - content.Position >= minSize;
            else
            {
                // Unknown length: read up to the threshold to decide; the prefix is then fed first.
                prefix = new byte[(int)Math.Min(minSize, 64 << 20)];
                int got = 0, n;
                while (got < prefix.Length && (n = await content.ReadAsync(prefix.AsMemory(got), ct).ConfigureAwait(false)) > 0) got += n;
                Array.Resize(ref prefix, got);
                xet = got >= minSize;
            }
            if (xet)
            {
                var ingested = await packer.IngestAsync(content, prefix, ct).ConfigureAwait(false);
                pending.Add(ingested);
                string pointer = LfsPointer.Text(ingested.Sha256, ingested.Size);
                stored = new StoredFile(file.Path, ingested.Size, ingested.Sha256, GitBlobOid(Encoding.UTF8.GetBytes(pointer)), ingested.FileHash.ToString());
            }
            else
            {
                stored = await StorePlainAsync(file.Path, prefix, content, ct).ConfigureAwait(false);
            }
        }
        // The shortcut is written after the seal, once the file record it points at is on disk.
        if (cacheFile is not null) cacheWrites.Add((cacheFile, stored));
        return stored;
    }

    private async Task<StoredFile> StorePlainAsync(string path, byte[] prefix, Stream content, CancellationToken ct)
    {
        // Stream into a temp file (sha256 and size on the way), then the git oid (needs the size first) on a second pass.
        string blobs = System.IO.Path.Combine(Directory, "blobs");
        string tmp = System.IO.Path.Combine(blobs, Guid.NewGuid().ToString("N") + ".tmp");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        try
        {
            await using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                sha.AppendData(prefix);
                await fs.WriteAsync(prefix, ct).ConfigureAwait(false);
                size += prefix.Length;
                byte[] buf = ArrayPool<byte>.Shared.Rent(1 << 16);
                try
                {
                    int n;
                    while ((n = await content.ReadAsync(buf.AsMemory(0, 1 << 16), ct).ConfigureAwait(false)) > 0)
                    {
                        sha.AppendData(buf, 0, n);
                        await fs.WriteAsync(buf.AsMemory(0, n), ct).ConfigureAwait(false);
                        size += n;
                    }
                }
                finally { ArrayPool<byte>.Shared.Return(buf); }
            }
            string oid;
            using (var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1))
            {
                sha1.AppendData(Encoding.ASCII.GetBytes("blob " + size + "\0"));
                await using var rs = new FileStream(tmp, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = await rs.ReadAsync(buf, ct).ConfigureAwait(false)) > 0) sha1.AppendData(buf, 0, n);
                oid = Convert.ToHexString(sha1.GetHashAndReset()).ToLowerInvariant();
            }
            File.Move(tmp, System.IO.Path.Combine(blobs, oid), overwrite: true);
            return new StoredFile(path, size, Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant(), oid, null);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    private StoredFile? TryReadCache(string cacheFile, string path)
    {
        if (!File.Exists(cacheFile)) return null;
        var dto = JsonSerializer.Deserialize<CacheDto>(File.ReadAllBytes(cacheFile));
        if (dto is null) return null;
        var stored = new StoredFile(path, dto.Size, dto.Sha256, dto.Oid, dto.Xet);
        // Trust the shortcut only when what it points at is still in the store.
        bool present = stored.XetHash is { } x
            ? File.Exists(System.IO.Path.Combine(Directory, "files", x + ".json"))
            : File.Exists(System.IO.Path.Combine(Directory, "blobs", stored.GitOid));
        return present ? stored : null;
    }

    private static void WriteCache(string cacheFile, StoredFile f) =>
        AtomicFile.Write(cacheFile, JsonSerializer.SerializeToUtf8Bytes(new CacheDto { Size = f.Size, Sha256 = f.Sha256, Oid = f.GitOid, Xet = f.XetHash }));

    private sealed class CacheDto
    {
        public long Size { get; set; }
        public string Sha256 { get; set; } = "";
        public string Oid { get; set; } = "";
        public string? Xet { get; set; }
    }

    private void SaveFileRecord(IngestedFile f)
    {
        var record = new FileRecord(f.FileHash, f.Size, f.Sha256, f.Terms.Select(t => t.Resolve()).ToArray());
        PutFileRecord(record);
    }

    internal void PutFileRecord(FileRecord record)
    {
        string path = System.IO.Path.Combine(Directory, "files", record.Hash + ".json");
        if (!File.Exists(path)) AtomicFile.Write(path, record.ToJson());
        _files[record.Hash] = record;
    }

    /// <summary>The reconstruction record of a Xet file, or null when the store does not know the hash.</summary>
    internal FileRecord? GetFileRecord(XetHash hash)
    {
        if (_files.TryGetValue(hash, out var r)) return r;
        string path = System.IO.Path.Combine(Directory, "files", hash + ".json");
        if (!File.Exists(path)) return null;
        r = FileRecord.FromJson(hash, File.ReadAllBytes(path));
        _files[hash] = r;
        return r;
    }

    /// <summary>True when some commit of the repo (reachable from a branch) holds the Xet file: CAS tokens are scoped to a repo.</summary>
    internal bool RepoHoldsFile(RepoId repo, XetHash file)
    {
        var set = _repoFiles.GetOrAdd(repo, r =>
        {
            var hashes = new HashSet<XetHash>();
            var state = GetState(r);
            if (state is null) return hashes;
            lock (state)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var todo = new Stack<string>(state.Branches.Values);
                while (todo.Count > 0)
                {
                    string id = todo.Pop();
                    if (!seen.Add(id)) continue;
                    var c = state.GetCommit(id);
                    if (c is null) continue;
                    foreach (var f in c.Files) if (f.XetHash is { } x) hashes.Add(XetHash.Parse(x));
                    if (c.Parent is not null) todo.Push(c.Parent);
                }
            }
            return hashes;
        });
        return set.Contains(file);
    }

    /// <summary>
    /// Copies bytes [<paramref name="start"/>, <paramref name="endExclusive"/>) of a stored file to <paramref name="destination"/>:
    /// plain files from their blob, Xet files decoded term by term from the xorbs (the bridge a client reaches by following
    /// the resolve redirect).
    /// </summary>
    public async Task CopyContentAsync(StoredFile file, Stream destination, long start, long endExclusive, CancellationToken cancellationToken = default)
    {
        if (start < 0 || endExclusive > file.Size || start > endExclusive)
            throw new ArgumentOutOfRangeException(nameof(start), $"Range [{start}, {endExclusive}) is outside '{file.Path}' ({file.Size} bytes).");
        if (!file.IsXet)
        {
            await using var fs = new FileStream(System.IO.Path.Combine(Directory, "blobs", file.GitOid), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            fs.Position = start;
            byte[] buf = new byte[1 << 16];
            long left = endExclusive - start;
            while (left > 0)
            {
                int n = await fs.ReadAsync(buf.AsMemory(0, (int)Math.Min(buf.Length, left)), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new EndOfStreamException($"Blob {file.GitOid} of '{file.Path}' is shorter than {file.Size} bytes.");
                await destination.WriteAsync(buf.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                left -= n;
            }
            return;
        }
        var record = GetFileRecord(XetHash.Parse(file.XetHash!)) ?? throw new FileNotFoundException($"The store has no reconstruction for {file.XetHash}.");
        await CopyXetContentAsync(record, destination, start, endExclusive, cancellationToken).ConfigureAwait(false);
    }

    internal async Task CopyXetContentAsync(FileRecord record, Stream destination, long start, long endExclusive, CancellationToken ct)
    {
        long pos = 0;
        byte[] chunk = ArrayPool<byte>.Shared.Rent(XorbChunkHeader.MaxUncompressedLength);
        try
        {
            foreach (var term in record.Terms)
            {
                long termEnd = pos + term.UnpackedLength;
                if (termEnd <= start) { pos = termEnd; continue; }
                if (pos >= endExclusive) break;
                var meta = Xorbs.Get(term.Xorb);
                long byteStart = meta.ByteStart(term.Start), byteEnd = meta.ByteEnd(term.End);
                byte[] raw = ArrayPool<byte>.Shared.Rent(checked((int)(byteEnd - byteStart)));
                try
                {
                    using (var handle = Xorbs.Open(term.Xorb))
                    {
                        int read = 0;
                        while (read < byteEnd - byteStart)
                        {
                            ct.ThrowIfCancellationRequested();
                            int n = handle.Read(raw.AsSpan(read, (int)(byteEnd - byteStart) - read), byteStart + read);
                            if (n == 0) throw new EndOfStreamException($"Xorb {term.Xorb} is shorter than its meta says.");
                            read += n;
                        }
                    }
                    int offset = 0;
                    for (int c = term.Start; c < term.End; c++)
                    {
                        int len = XorbChunkCodec.Decode(raw.AsSpan(offset, (int)(byteEnd - byteStart) - offset), chunk, out int consumed);
                        offset += consumed;
                        long cs = Math.Max(pos, start), ce = Math.Min(pos + len, endExclusive);
                        if (ce > cs) await destination.WriteAsync(chunk.AsMemory((int)(cs - pos), (int)(ce - cs)), ct).ConfigureAwait(false);
                        pos += len;
                        if (pos >= endExclusive) break;
                    }
                }
                finally { ArrayPool<byte>.Shared.Return(raw); }
                if (pos >= endExclusive) break;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(chunk); }
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
