using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Cache;
using XetPs.Cas;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>
/// One download pipeline: the Hub client, one CAS client per repository revision (its token refreshed before
/// expiry), and what all files share: buffer permits, CAS connection permits, the xorb registry, the progress
/// counters. Thread-safe: the module runs several <see cref="DownloadAsync"/> calls at once (at most
/// <see cref="XetSessionOptions.MaxFilesInFlight"/> proceed, the rest queue). Invariants: the Hub token goes only to
/// the Hub (never to CAS or a presigned URL) and never into a log or a message; disposing the session cancels
/// whatever still runs and waits for it.
/// </summary>
public sealed class XetSession : IAsyncDisposable
{
    private readonly XetSessionOptions _options;
    private readonly ILogger? _logger;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly XetHttpTransport _transport;
    private readonly HubClient _hub;
    private readonly SessionResources _resources;
    private readonly SemaphoreSlim _files;
    private readonly ConcurrentDictionary<(RepoId Repo, string Revision), Lazy<CasClient>> _cas = new();
    private readonly TaskCompletionSource<bool> _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private int _disposed;

    public XetSession(XetSessionOptions options, ILogger? logger = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        _logger = logger;
        // The JIT compiles the hashing loops while this session's first requests are in flight, not on the first xorb.
        HotLoopWarmUp.Start();
        _resources = new SessionResources(options, logger, _lifetime.Token);
        // The transport reports every body byte and every retry to the session's activity: the stall watchdog's evidence.
        _transport = new XetHttpTransport(new XetHttpOptions
        {
            MaxRetries = options.MaxRetries,
            RetryBaseDelay = options.RetryBaseDelay,
            MaxRetryDelay = options.MaxRetryDelay,
            ReadTimeout = options.ReadTimeout,
            LowSpeedLimit = options.LowSpeedLimit,
            MaxConnectionsPerServer = Math.Max(options.CasConcurrency, 4),
            Handler = options.Handler,
            // Through a proxy, the credentials are the proxy's alone: WebProxy answers only its own 407 challenges.
            Proxy = options.Proxy is null ? null : new WebProxy(options.Proxy) { Credentials = options.ProxyCredential },
            UseProxy = !options.NoProxy,
            Offline = options.Offline,
        }, logger, _resources.Activity);
        _hub = new HubClient(_transport, options.Endpoint, options.HubToken);
        _files = new SemaphoreSlim(options.MaxFilesInFlight, options.MaxFilesInFlight);
    }

    /// <summary>For the PowerShell module: engine logs go to <paramref name="log"/> (no Logging.Abstractions needed).</summary>
    public XetSession(XetSessionOptions options, Action<XetLogLevel, string>? log)
        : this(options, log is null ? null : new CallbackLogger(log))
    {
    }

    /// <summary>Shared state, for specifications and benchmarks (peak buffer, loads running, registry entries).</summary>
    internal SessionResources Resources => _resources;

    /// <summary>Lists files (not directories) of a repository, page by page.</summary>
    public IAsyncEnumerable<RepoEntry> ListFilesAsync(RepoId repo, string? revision, string? path, bool recursive,
        CancellationToken cancellationToken = default) =>
        _hub.ListTreeAsync(repo, revision, path, recursive, expand: false, cancellationToken);

    /// <summary>Resolves one file: size, hashes, and the commit the revision points to.</summary>
    public async Task<RepoEntry> GetFileAsync(RepoId repo, string? revision, string path, CancellationToken ct = default) =>
        (await _hub.ResolveAsync(repo, revision, path, ct).ConfigureAwait(false)).Entry;

    /// <summary>
    /// Downloads one file to <see cref="FileDownloadRequest.DestinationPath"/>: skipped when already up to date,
    /// resumed when an earlier run was interrupted, verified, then moved into place. Throws the exception that ended
    /// the download (the originating object), or <see cref="OperationCanceledException"/> when cancelled; the
    /// destination is then untouched.
    /// </summary>
    public Task<FileDownloadResult> DownloadAsync(FileDownloadRequest request, IProgress<FileProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (request is null) throw new ArgumentNullException(nameof(request));
        return RunAsync(token => SaveAsync(request, progress, token), cancellationToken);
    }

    /// <summary>
    /// Saves one file into the Hugging Face cache as huggingface_hub does (<see cref="HubCache"/>): the blob named by its
    /// etag, the snapshot entry of its commit, the ref of the revision asked for. A blob already in the cache (from
    /// Python, JavaScript or an earlier run) is not downloaded again: it is checked by the same trust rules as a local
    /// copy and linked. Offline (<see cref="XetSessionOptions.Offline"/>) nothing is sent: the file is answered from the
    /// cache, or the download fails with <see cref="XetOfflineException"/>. The result's DestinationPath is the snapshot
    /// path a library opens.
    /// </summary>
    public Task<FileDownloadResult> DownloadToCacheAsync(CacheDownloadRequest request, IProgress<FileProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (request is null) throw new ArgumentNullException(nameof(request));
        return RunAsync(token => CacheDownload.RunAsync(this, request, progress, token), cancellationToken);
    }

    /// <summary>
    /// What <see cref="DownloadAsync"/> would do with <paramref name="request"/>, changing nothing on disk: the file's
    /// <see cref="FilePlan"/> against the Hub's revision (resolved, unless the request carries its entry). Offline, from
    /// disk alone: a file that is there is what an offline download would return.
    /// </summary>
    public async Task<FilePlan> PlanAsync(FileDownloadRequest request, CancellationToken cancellationToken = default)
    {
        if (request is null) throw new ArgumentNullException(nameof(request));
        var destination = Path.GetFullPath(request.DestinationPath);
        if (_options.Offline && request.Entry is null)
            return new FilePlan(null, request.Path, destination, File.Exists(destination) ? FileState.UpToDate : FileState.Missing,
                File.Exists(destination) ? new FileInfo(destination).Length : null, 0);
        var entry = request.Entry ?? await GetFileAsync(request.Repo, request.Revision, request.Path, cancellationToken).ConfigureAwait(false);
        var plan = FilePlanner.ForDestination(entry, destination, LocalDirOf(destination, entry.Path), _options.Verify);
        if (plan.State != FileState.Changed || !entry.IsXet) return plan;
        using var earlier = EarlierCopy.TryOpen(destination, entry.Path, FilePlanner.ReadRecord(LocalFileRecord.PathFor(destination, entry.Path)));
        return earlier is null ? plan : plan with { BytesReusable = await ReusableAsync(entry, earlier, cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>
    /// The bytes of <paramref name="entry"/> whose chunks <paramref name="earlier"/> holds: one reconstruction request
    /// for the whole file (its terms, no xorb transfer), each term the copy holds counted whole, as a download would
    /// read it. Nothing is written.
    /// </summary>
    internal async Task<long> ReusableAsync(RepoEntry entry, EarlierCopy earlier, CancellationToken cancellationToken)
    {
        if (entry.Size == 0 || !XetHash.TryParse(entry.XetHash, out var fileId)) return 0;
        var reconstruction = await CasFor(entry.Repo, entry.Revision).GetReconstructionAsync(fileId, 0, entry.Size - 1, cancellationToken)
            .ConfigureAwait(false);
        long reusable = 0;
        foreach (var term in reconstruction.Terms)
            if (earlier.Locate(term) is not null) reusable += term.UnpackedLength;
        return Math.Min(reusable, entry.Size);
    }

    /// <summary>
    /// What <see cref="DownloadToCacheAsync"/> would do with <paramref name="request"/>, changing nothing on disk. Offline,
    /// the revision is resolved through the cache's refs and a file whose snapshot entry is there is what an offline
    /// download would return.
    /// </summary>
    public async Task<FilePlan> PlanAsync(CacheDownloadRequest request, CancellationToken cancellationToken = default)
    {
        if (request is null) throw new ArgumentNullException(nameof(request));
        var cache = request.Cache;
        if (_options.Offline && request.Entry is null)
        {
            var commit = cache.ResolveRevision(request.Repo, request.Revision);
            var pointer = commit is null ? null : cache.SnapshotPath(request.Repo, commit, request.Path);
            var file = pointer is null ? null : SnapshotLink.FinalTarget(pointer);
            return new FilePlan(null, request.Path, pointer ?? cache.RepoFolder(request.Repo), file is null ? FileState.Missing : FileState.UpToDate,
                file is null ? null : new FileInfo(file).Length, 0);
        }
        var entry = request.Entry ?? await GetFileAsync(request.Repo, request.Revision, request.Path, cancellationToken).ConfigureAwait(false);
        if (!HubCache.IsCommitId(entry.Revision))
            throw new XetProtocolException($"The Hub named no commit for '{entry.Path}', so it has no snapshot in the Hugging Face cache.");
        var plan = FilePlanner.ForCache(cache, entry, _options.Verify);
        if (plan.State is not (FileState.Missing or FileState.Changed) || !entry.IsXet) return plan;
        using var earlier = CacheDownload.EarlierBlob(cache, entry.Repo, entry, HubCache.EtagOf(entry));
        return earlier is null ? plan : plan with { BytesReusable = await ReusableAsync(entry, earlier, cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>
    /// Runs one download under the session's rules: counted as running, so disposing the session waits for it; every
    /// wait observes both the caller's token and the session's lifetime; a cancellation reaches the caller as its own.
    /// </summary>
    private async Task<FileDownloadResult> RunAsync(Func<CancellationToken, Task<FileDownloadResult>> download, CancellationToken cancellationToken)
    {
        // Counted before the disposed check, so DisposeAsync either sees this download running (and waits for it
        // before closing the transport and the lifetime source) or this download sees the session disposed.
        Interlocked.Increment(ref _running);
        if (Volatile.Read(ref _disposed) != 0)
        {
            EndOne();
            throw new ObjectDisposedException(nameof(XetSession));
        }
        // Every wait of the download, the wait for a file slot included, observes both the caller's token and the
        // session's lifetime: disposing the session ends queued and running downloads alike, before the transport
        // they use is closed.
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        try
        {
            return await download(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && ex.CancellationToken != cancellationToken)
        {
            throw new OperationCanceledException("The download was cancelled.", ex, cancellationToken);
        }
        catch (OperationCanceledException ex) when (_lifetime.IsCancellationRequested && ex.CancellationToken != _lifetime.Token)
        {
            // Still counted as running, so the lifetime source is not disposed yet.
            throw new OperationCanceledException("The download was cancelled: its session was closed.", ex, _lifetime.Token);
        }
        finally
        {
            linked.Dispose();
            EndOne();
        }
    }

    private async Task<FileDownloadResult> SaveAsync(FileDownloadRequest request, IProgress<FileProgress>? progress, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var destination = Path.GetFullPath(request.DestinationPath);
        // Offline, a file that is not there is answered at once, before its record (and the lock it is) is created.
        if (_options.Offline && !File.Exists(destination))
            throw new XetOfflineException(request.Path, $"'{request.Path}' is not at '{destination}'");
        // Taken before a file slot: waiting for another download of this destination (another session or process)
        // holds no slot that other files could use.
        var repoPath = request.Entry?.Path ?? request.Path;
        using var destinationLock = await DestinationLock.AcquireAsync(LocalFileRecord.Locate(destination, repoPath).Root,
            LocalFileRecord.PathFor(destination, repoPath), destination, _logger, token).ConfigureAwait(false);
        using var slot = await FileSlotAsync(token).ConfigureAwait(false);
        if (_options.Offline) return await AnswerOfflineAsync(request, destination, destinationLock, progress, clock, token).ConfigureAwait(false);
        var entry = request.Entry ?? await GetFileAsync(request.Repo, request.Revision, request.Path, token).ConfigureAwait(false);
        var identity = LocalFileRecord.IdentityOf(entry);
        var localDir = LocalDirOf(destination, entry.Path);
        var huggingFace = localDir is null ? null : LocalDirMetadata.Read(localDir, entry.Path);
        EarlierCopy? earlier = null;
        if (File.Exists(destination))
        {
            var known = destinationLock.Read();
            var state = identity is null ? LocalCopyState.Foreign
                : await Task.Run(() => LocalCopy.Examine(destination, entry, identity, known, destinationLock, _options.Verify, token, huggingFace), token)
                    .ConfigureAwait(false);
            if (state == LocalCopyState.UpToDate)
            {
                _logger?.LogInformation("{Path} is up to date at {Destination}", entry.Path, destination);
                RecordForHuggingFace(localDir, entry, huggingFace, destination);
                progress?.Report(new FileProgress(entry.Path, entry.Size, entry.Size));
                return new FileDownloadResult(destination, entry.Size, entry.XetHash, Skipped: true, Resumed: false, 0, clock.Elapsed);
            }
            if (state == LocalCopyState.Damaged)
                _logger?.LogWarning("{Path} at {Destination} does not match its hash (it was saved without verification, or damaged since); downloading it again",
                    entry.Path, destination);
            else if (state == LocalCopyState.Outdated)
            {
                _logger?.LogInformation("{Path}: the copy an earlier download left at {Destination} is another version; replacing it", entry.Path, destination);
                // Its chunks that the new version shares are read from it instead of fetched.
                if (entry.IsXet) earlier = EarlierCopy.TryOpen(destination, entry.Path, known);
            }
            else if (!request.Overwrite) throw new XetDestinationExistsException(destination);
        }

        var work = WorkFiles.Beside(destination, entry.Path);
        using var room = _resources.DiskSpace.Reserve(destination, work, entry.Size);
        var outcome = await DownloadVerifiedAsync(entry, destination, work, room.Track(progress), token, earlier).ConfigureAwait(false);
        if (identity is not null) destinationLock.Write(identity, destination, verified: _options.Verify);
        KeepChunkMap(destination, entry.Path, outcome.Terms);
        RecordForHuggingFace(localDir, entry, null, destination);
        _logger?.LogInformation("Downloaded {Path} ({Size} bytes{Resumed}{Reused}) in {Seconds:0.00} s", entry.Path, entry.Size,
            outcome.Resumed ? ", resumed" : "", outcome.BytesReused > 0 ? $", {outcome.BytesReused} reused from the earlier copy" : "",
            clock.Elapsed.TotalSeconds);
        return new FileDownloadResult(destination, entry.Size, entry.XetHash, Skipped: false, outcome.Resumed, outcome.BytesReceived, clock.Elapsed)
        {
            BytesReused = outcome.BytesReused,
        };
    }

    /// <summary>
    /// Offline, as huggingface_hub answers a local dir with HF_HUB_OFFLINE: the file already at the destination, nothing
    /// sent. With the entry known (piped from a listing) the file must be it by the trust rules; otherwise a commit asked
    /// for must be the one huggingface_hub's local-dir metadata names, when there is such metadata. A missing or other
    /// file fails with <see cref="XetOfflineException"/> naming it.
    /// </summary>
    private async Task<FileDownloadResult> AnswerOfflineAsync(FileDownloadRequest request, string destination, DestinationLock record,
        IProgress<FileProgress>? progress, Stopwatch clock, CancellationToken token)
    {
        var path = request.Entry?.Path ?? request.Path;
        if (request.Entry is { } entry && LocalFileRecord.IdentityOf(entry) is { } identity)
        {
            var state = await Task.Run(() => LocalCopy.Examine(destination, entry, identity, record, _options.Verify, token), token).ConfigureAwait(false);
            if (state != LocalCopyState.UpToDate)
                throw new XetOfflineException(path, $"'{destination}' is not the '{path}' asked for (another version, or damaged)");
        }
        else if (request.Revision is { } pinned && HubCache.IsCommitId(pinned) &&
                 LocalDirMetadata.Read(LocalFileRecord.Locate(destination, path).Root, path) is { } metadata && metadata.Commit != pinned)
        {
            throw new XetOfflineException(path, $"'{destination}' holds '{path}' of commit {metadata.Commit}, not {pinned}");
        }
        var size = new FileInfo(destination).Length;
        _logger?.LogInformation("{Path} answered offline from {Destination}", path, destination);
        progress?.Report(new FileProgress(path, size, size));
        return new FileDownloadResult(destination, size, request.Entry?.XetHash, Skipped: true, Resumed: false, 0, clock.Elapsed);
    }

    /// <summary>
    /// The folder <paramref name="destination"/> holds <paramref name="repoPath"/> under, as huggingface_hub's local dir
    /// would (the destination ends with the repo path); null for a destination named otherwise.
    /// </summary>
    private static string? LocalDirOf(string destination, string repoPath)
    {
        var (root, relative) = LocalFileRecord.Locate(destination, repoPath);
        return relative == repoPath.Replace('/', Path.DirectorySeparatorChar) ? root : null;
    }

    /// <summary>
    /// Writes huggingface_hub's local-dir metadata of a file now known to be <paramref name="entry"/>, unless the metadata
    /// there already says so and still describes the file: then huggingface_hub finds it up to date too.
    /// </summary>
    private static void RecordForHuggingFace(string? localDir, RepoEntry entry, LocalDirMetadata? present, string destination)
    {
        var etag = (entry.Sha256 ?? entry.GitOid)?.ToLowerInvariant();
        if (localDir is null || etag is null || !HubCache.IsEtag(etag) || !HubCache.IsCommitId(entry.Revision)) return;
        if (present is not null && present.Commit == entry.Revision && present.Etag == etag && present.Describes(new FileInfo(destination))) return;
        LocalDirMetadata.Write(localDir, entry.Path, entry.Revision, etag);
    }

    /// <summary>One of the session's file slots (<see cref="XetSessionOptions.MaxFilesInFlight"/>), released when disposed.</summary>
    internal async Task<IDisposable> FileSlotAsync(CancellationToken token)
    {
        await _files.WaitAsync(token).ConfigureAwait(false);
        return new FileSlot(_files);
    }

    private sealed class FileSlot : IDisposable
    {
        private SemaphoreSlim? _files;

        public FileSlot(SemaphoreSlim files) => _files = files;

        public void Dispose() => Interlocked.Exchange(ref _files, null)?.Release();
    }

    internal XetSessionOptions Options => _options;

    internal ILogger? Logger => _logger;

    /// <summary>Internal counter, for specifications: downloads counted as running (queued for a slot or under way).</summary>
    internal int RunningDownloads => Volatile.Read(ref _running);

    private void EndOne()
    {
        if (Interlocked.Decrement(ref _running) == 0 && Volatile.Read(ref _disposed) != 0) _drained.TrySetResult(true);
    }

    /// <summary>Fresh downloads a file gets after its bytes failed their hash, before the mismatch is final.</summary>
    internal const int HashMismatchRetries = 2;

    /// <summary>
    /// Downloads one file (Xet or plain) into its partial file and moves it into place once verified. A download whose
    /// bytes do not match the file's hash (corrupted in transit, a CDN or CAS serving wrong bytes) has discarded its
    /// partial file; it is downloaded afresh, with fresh reconstructions and URLs, up to <see cref="HashMismatchRetries"/>
    /// times, so a flaky transfer costs time rather than a failed job. The last mismatch is the error. The first attempt
    /// reads the chunks <paramref name="earlier"/> holds from it; a refetch does without it, since its bytes may be the
    /// ones that did not match.
    /// </summary>
    internal async Task<FileReconstructor.Outcome> DownloadVerifiedAsync(RepoEntry entry, string destination, WorkFiles work,
        IProgress<FileProgress> progress, CancellationToken token, EarlierCopy? earlier = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                FileReconstructor.Outcome outcome;
                if (entry.IsXet && entry.XetHash is not null)
                {
                    _logger?.LogDebug("Downloading {Path} ({Size} bytes, Xet {FileId})", entry.Path, entry.Size, entry.XetHash);
                    outcome = await FileReconstructor.RunAsync(_resources, CasFor(entry.Repo, entry.Revision), XetHash.Parse(entry.XetHash), entry.Size,
                        entry.Path, destination, work, progress, token, attempt == 0 ? earlier : null).ConfigureAwait(false);
                }
                else
                {
                    _logger?.LogDebug("Downloading {Path} ({Size} bytes, plain HTTP)", entry.Path, entry.Size);
                    outcome = await PlainFileDownloader.RunAsync(_resources, _hub, entry, destination, work, progress, token).ConfigureAwait(false);
                }
                return outcome with { Resumed = outcome.Resumed && attempt == 0 };
            }
            catch (XetHashMismatchException mismatch) when (attempt < HashMismatchRetries && !token.IsCancellationRequested)
            {
                // A warning: the module shows the engine's warnings at -Verbose, so a refetch is never silent.
                _logger?.LogWarning("{Path}: {Mismatch} Downloading it again (attempt {Attempt} of {Attempts})",
                    entry.Path, mismatch.Message, attempt + 2, HashMismatchRetries + 1);
            }
        }
    }

    /// <summary>
    /// Keeps where the file's chunks sit beside its record, so its next version can reuse them (see
    /// <see cref="WrittenTerms"/>); removes an older map when there is none to keep (a plain file, an unverified
    /// download), so a map never describes other bytes than the file's. Best effort: without a map the next version is
    /// only fetched whole.
    /// </summary>
    private void KeepChunkMap(string destination, string repoPath, WrittenTerms? terms)
    {
        var path = WrittenTerms.PathFor(destination, repoPath);
        try
        {
            if (terms is not null && terms.ChunkCount > 0) terms.Save(LocalFileRecord.Locate(destination, repoPath).Root, path);
            else WorkFolder.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UnsafeWorkPathException)
        {
            _logger?.LogDebug("The chunk map of {Path} was not kept: {Error}", repoPath, e.Message);
        }
    }

    private CasClient CasFor(RepoId repo, string revision) =>
        _cas.GetOrAdd((repo, revision), key => new Lazy<CasClient>(() =>
            new CasClient(_transport, new CasTokenProvider(_hub, key.Repo, key.Revision)))).Value;

    /// <summary>
    /// Cancels the downloads still running or queued, waits until every one has ended (each ends its own tasks, and
    /// they end promptly: every wait inside them observes the cancellation), then closes the transport. A download
    /// started afterwards throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _drained.Task.ConfigureAwait(false);
            return;
        }
        _lifetime.Cancel();
        if (Volatile.Read(ref _running) == 0) _drained.TrySetResult(true);
        // No timeout: closing the transport under a download still running is the bug this wait prevents.
        await _drained.Task.ConfigureAwait(false);
        _transport.Dispose();
        _lifetime.Dispose();
    }
}
