using System;
using System.Collections;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;
using XetPs.Cas;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Cache;

/// <summary>
/// The Hugging Face cache (HF_HUB_CACHE) that huggingface_hub, huggingface.js and the libraries built on them read, laid
/// out as huggingface_hub lays it out: per repository a folder <c>models--org--name</c> (<c>datasets--</c>,
/// <c>spaces--</c>) holding <c>blobs/&lt;etag&gt;</c> (the file's bytes, named by the Hub's etag: the LFS/Xet sha256, or
/// the git blob id of a plain file), <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c> (a relative symlink to the blob, or
/// the file itself where symlinks cannot be made), and <c>refs/&lt;revision&gt;</c> (the commit a branch or tag named
/// when it was last resolved, no newline); lock files live in <c>.locks/&lt;repo folder&gt;/&lt;etag&gt;.lock</c>
/// (<see cref="CacheLock"/>). XetPs's own bookkeeping for a blob (its verification record and resume journal) lives
/// beside its lock, in the one folder that huggingface_hub's and huggingface.js's cache scans skip.
/// Invariants: every path this type hands out lies inside <see cref="Root"/> (repo paths go through
/// <see cref="SafePath"/>; etags, commits and revisions are checked before they name a file); a ref is replaced
/// atomically, so a concurrent reader sees the old commit or the new one.
/// </summary>
public sealed class HubCache
{
    private static readonly Regex Sha256 = new("^[0-9a-f]{64}$", RegexOptions.CultureInvariant);
    private static readonly Regex GitOid = new("^[0-9a-f]{40}$", RegexOptions.CultureInvariant);

    private readonly Lazy<bool> _symlinks;
    private int _toldCopies;

    /// <param name="root">The cache folder (HF_HUB_CACHE); created when the first file is saved.</param>
    /// <param name="symlinks">False: never make symlinks (HF_HUB_DISABLE_SYMLINKS); true: always; null: probe the
    /// cache folder once, as huggingface_hub does.</param>
    public HubCache(string root, bool? symlinks = null)
    {
        if (string.IsNullOrWhiteSpace(root)) throw new ArgumentException("The cache folder must not be empty.", nameof(root));
        Root = Path.GetFullPath(root);
        _symlinks = new Lazy<bool>(() => symlinks ?? SnapshotLink.Probe(LocksFolder), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The cache folder, full path.</summary>
    public string Root { get; }

    /// <summary>True when snapshots are symlinks to blobs here; false when they are the files themselves.</summary>
    public bool Symlinks => _symlinks.Value;

    /// <summary>Where huggingface_hub keeps its lock files, and XetPs its bookkeeping: no cache scan looks inside.</summary>
    public string LocksFolder => Path.Combine(Root, ".locks");

    /// <summary>
    /// The cache huggingface_hub would use with this environment (<paramref name="root"/> when given): HF_HUB_CACHE, else
    /// HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub;
    /// HF_HUB_DISABLE_SYMLINKS=1 stores the files themselves in snapshots/.
    /// </summary>
    public static HubCache FromEnvironment(IDictionary? environment = null, string? root = null)
    {
        environment ??= Environment.GetEnvironmentVariables();
        string? Get(string name) => environment[name] is string value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        var folder = root
                     ?? XetSessionOptions.ExpandUser(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE"), Get)
                     ?? (XetSessionOptions.HuggingFaceHome(Get) is { } home ? Path.Combine(home, "hub") : null)
                     ?? throw new ArgumentException("No Hugging Face cache folder: set HF_HUB_CACHE or HF_HOME (no home folder is known).");
        return new HubCache(folder, XetSessionOptions.IsTrue(Get("HF_HUB_DISABLE_SYMLINKS")) ? false : null);
    }

    /// <summary>The repository's folder name: <c>models--org--name</c>, <c>datasets--org--name</c>, <c>spaces--org--name</c>.</summary>
    public static string FolderName(RepoId repo) => repo.ApiPath.Replace("/", "--");

    /// <summary>The repository's folder in the cache.</summary>
    public string RepoFolder(RepoId repo) => Path.Combine(Root, FolderName(repo));

    /// <summary>The blob holding the bytes whose etag is <paramref name="etag"/>.</summary>
    public string BlobPath(RepoId repo, string etag) => Path.Combine(RepoFolder(repo), "blobs", CheckEtag(etag));

    /// <summary>The snapshot folder of <paramref name="commit"/>.</summary>
    public string SnapshotFolder(RepoId repo, string commit) => Path.Combine(RepoFolder(repo), "snapshots", CheckCommit(commit));

    /// <summary>Where a library opens <paramref name="repoPath"/> at <paramref name="commit"/> (throws <see cref="UnsafeRepoPathException"/>).</summary>
    public string SnapshotPath(RepoId repo, string commit, string repoPath) => SafePath.Combine(SnapshotFolder(repo, commit), repoPath);

    /// <summary>The lock file huggingface_hub takes while it fills the blob <paramref name="etag"/>.</summary>
    public string LockPath(RepoId repo, string etag) => Path.Combine(LocksFolder, FolderName(repo), CheckEtag(etag) + ".lock");

    /// <summary>XetPs's record of the blob <paramref name="etag"/> (what was verified, see <see cref="LocalFileRecord"/>).</summary>
    /// <summary>Where the chunk map of a blob XetPs downloaded is kept (see <c>WrittenTerms</c>): beside its record.</summary>
    internal string TermsPath(RepoId repo, string etag) => Path.Combine(LocksFolder, FolderName(repo), CheckEtag(etag) + ".xetps-terms");

    internal string RecordPath(RepoId repo, string etag) => Path.Combine(LocksFolder, FolderName(repo), CheckEtag(etag) + ".xetps-record");

    /// <summary>The partial blob and its resume journal: the partial is huggingface_hub's <c>blobs/&lt;etag&gt;.incomplete</c>.</summary>
    internal WorkFiles WorkFilesFor(RepoId repo, string etag) =>
        new(BlobPath(repo, etag) + ".incomplete", Path.Combine(LocksFolder, FolderName(repo), CheckEtag(etag) + ".xetps-journal"), LengthIsWritten: true);

    /// <summary>The file of the ref <paramref name="revision"/> (a branch, a tag, or <c>refs/pr/N</c>, which nests).</summary>
    public string RefPath(RepoId repo, string revision)
    {
        try
        {
            return SafePath.Combine(Path.Combine(RepoFolder(repo), "refs"), revision);
        }
        catch (UnsafeRepoPathException e)
        {
            throw new ArgumentException($"The revision '{revision}' cannot name a ref in the cache: {e.Message}", nameof(revision), e);
        }
    }

    /// <summary>
    /// The commit <paramref name="revision"/> stands for in this cache: itself when it is a commit id, else the content of
    /// its ref file; null when the cache has no such ref.
    /// </summary>
    public string? ResolveRevision(RepoId repo, string? revision)
    {
        revision ??= DefaultRevision;
        if (IsCommitId(revision)) return revision;
        var path = RefPath(repo, revision);
        try
        {
            var commit = File.Exists(path) ? File.ReadAllText(path).Trim() : null;
            return commit is not null && IsCommitId(commit) ? commit : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Records that <paramref name="revision"/> names <paramref name="commit"/>, as huggingface_hub does after a resolve:
    /// nothing for a commit id, nothing when the ref already says so (a read-only cache stays usable), else a temporary
    /// file renamed over the ref, so readers never see half a commit id.
    /// </summary>
    public void WriteRef(RepoId repo, string? revision, string commit)
    {
        revision ??= DefaultRevision;
        CheckCommit(commit);
        if (revision == commit) return;
        var path = RefPath(repo, revision);
        if (ResolveRevision(repo, revision) == commit && File.Exists(path)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
        File.WriteAllText(temporary, commit);
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

    /// <summary>True the first time only: the copies made instead of symlinks are told about once.</summary>
    internal bool FirstCopyInsteadOfLink() => Interlocked.Exchange(ref _toldCopies, 1) == 0;

    /// <summary>The revision a download without one asks for, as huggingface_hub does.</summary>
    public const string DefaultRevision = "main";

    /// <summary>
    /// The name of a repo file's blob: its LFS/Xet sha256 (the Hub's X-Linked-Etag, the tree's <c>lfs.oid</c>), else its
    /// git blob id (a plain file's ETag, the tree's <c>oid</c>), lowercase. Throws <see cref="XetProtocolException"/> when
    /// the Hub gave neither in a form that can name a file.
    /// </summary>
    public static string EtagOf(RepoEntry entry)
    {
        var etag = (entry.Sha256 ?? entry.GitOid)?.ToLowerInvariant();
        if (etag is null)
            throw new XetProtocolException($"The Hub gave '{entry.Path}' neither an LFS sha256 nor a git blob id, so it has no name in the Hugging Face cache.");
        if (!IsEtag(etag))
            throw new XetProtocolException($"The Hub gave '{entry.Path}' an etag that is neither a sha256 nor a git blob id: '{Clip(etag)}'.");
        return etag;
    }

    /// <summary>True for a 40-hex commit id (lowercase, as the Hub writes them).</summary>
    public static bool IsCommitId(string? text) => text is not null && GitOid.IsMatch(text);

    /// <summary>True for a blob name the Hub can give: a sha256 or a git blob id, lowercase hex.</summary>
    public static bool IsEtag(string? text) => text is not null && (Sha256.IsMatch(text) || GitOid.IsMatch(text));

    /// <summary>True when <paramref name="etag"/> is a sha256 (an LFS or Xet file's content hash).</summary>
    public static bool IsSha256(string etag) => Sha256.IsMatch(etag);

    private static string CheckEtag(string etag) =>
        IsEtag(etag) ? etag : throw new ArgumentException($"'{Clip(etag)}' is not a blob name (a sha256 or a git blob id).", nameof(etag));

    private static string CheckCommit(string commit) =>
        IsCommitId(commit) ? commit : throw new ArgumentException($"'{Clip(commit)}' is not a commit id (40 hex digits).", nameof(commit));

    private static string Clip(string text) => text.Length <= 80 ? text : text.Substring(0, 80) + "...";
}
