using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cache;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>
/// Save-XetFile: downloads repository files into -Destination, keeping their repo-relative folders, or with -Cache into
/// the Hugging Face cache (<see cref="HubCache"/>) that huggingface_hub, huggingface.js and the libraries on them read.
/// Thin by design: binds and validates (before any network call), expands -Path wildcards against the repo's listing
/// (<see cref="RepoPathPattern"/>), asks ShouldProcess per file, hands the files to a <see cref="SaveQueue"/> on one
/// <see cref="XetSession"/> for the whole pipeline, and turns the engine's messages into objects, progress, verbose
/// lines and errors. Invariant: every Write* call happens on the pipeline thread (ProcessRecord/EndProcessing draining
/// the <see cref="Outbox"/>); workers never call into PowerShell.
/// A failed file fails the batch well: the files already accepted (every -Path value of the call, every input
/// object queued or downloading) are finished and kept, no further input is accepted, then a terminating error is
/// thrown whose Exception is the first failure's own exception and whose message says what became of the batch.
/// With -ContinueOnError each failure is instead a non-terminating error (the Copy-Item convention), unless
/// -ErrorAction Stop asks for the terminating one. A stop (Ctrl+C, a downstream Select-Object -First) ends everything
/// at once.
/// </summary>
[Cmdlet(VerbsData.Save, "XetFile", SupportsShouldProcess = true, ConfirmImpact = Impact, DefaultParameterSetName = PathSet)]
[OutputType(typeof(FileInfo))]
public sealed class SaveXetFileCommand : HubCmdlet, IDisposable
{
    private const ConfirmImpact Impact = ConfirmImpact.Low;
    // Two choices, four sets: -Path (wildcards) or -LiteralPath, into -Destination or into the cache (-Cache).
    private const string PathSet = "Path", LiteralPathSet = "LiteralPath", PathCacheSet = "PathCache", LiteralPathCacheSet = "LiteralPathCache";
    private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(1500);

    private readonly CancellationTokenSource _cancellation = new();
    private readonly Outbox _outbox = new();
    // One session per Hub endpoint (almost always exactly one): its files share buffer, connections and xorb cache.
    private readonly Dictionary<string, XetSession> _sessions = new(StringComparer.Ordinal);
    // Destinations already queued by this pipeline: the same file twice would race itself for the partial file.
    private readonly HashSet<string> _queued = new(
        Environment.OSVersion.Platform == PlatformID.Win32NT ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
    private readonly SaveBatch _batch = new();
    private readonly RepoPathPattern _patterns = new();
    private SaveQueue? _queue;
    private ProgressBoard? _board;
    private string _destinationRoot = string.Empty;
    private HubCache? _cache;
    private int _nextProgressId = ProgressBoard.ParentId + 1;
    private bool _askFirst;      // ShouldProcess would play "What if" or ask, rather than only write a verbose line
    private bool _nonTerminating; // -ContinueOnError, and the error action is not Stop
    private ErrorRecord? _firstFailure; // set once a failure has ended the batch (terminating mode)

    /// <summary>The repository, "org/name" (or "datasets/org/name", "spaces/org/name"; a legacy "gpt2" or an old id the Hub redirects).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RepoNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Repo { get; set; } = string.Empty;

    /// <summary>
    /// Repo-relative paths of the files to download; wildcards (*, ?, [a-z]) are expanded against the repository's
    /// listing. Paths bound from Get-XetFileList's entries are taken as written.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = PathCacheSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RepoPathCompleter))]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Repo-relative paths of the files to download, taken as written (no wildcards).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathCacheSet)]
    [Alias("LP")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RepoPathCompleter))]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Branch, tag or commit; default: the repository's default branch.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Revision { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public XetRepoType RepoType { get; set; } = XetRepoType.Model;

    /// <summary>The folder that receives the files; default: the current location.</summary>
    [Parameter(Position = 2, ParameterSetName = PathSet)]
    [Parameter(Position = 2, ParameterSetName = LiteralPathSet)]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Save into the Hugging Face cache (HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub).</summary>
    [Parameter(ParameterSetName = PathCacheSet)]
    [Parameter(ParameterSetName = LiteralPathCacheSet)]
    public SwitchParameter Cache { get; set; }

    /// <summary>Save into the Hugging Face cache at this folder instead of the default one (implies -Cache).</summary>
    [Parameter(ParameterSetName = PathCacheSet)]
    [Parameter(ParameterSetName = LiteralPathCacheSet)]
    [ValidateNotNullOrEmpty]
    public string? CacheDirectory { get; set; }

    /// <summary>Replace a different file already at the destination.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write a System.IO.FileInfo for each file saved or already up to date.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The Hub; bound by property name from Get-XetFileList's entries (the Hub they were listed from).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Endpoint { get; set; }

    /// <summary>Files downloaded at the same time (default: HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS, else 4).</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; }

    /// <summary>Bytes of download buffer shared by all files (default: HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE, else 512 MiB).</summary>
    [Parameter]
    [ValidateRange(1048576L, long.MaxValue)]
    public long BufferSize { get; set; }

    /// <summary>Connections to the CAS shared by all files (default: HF_XET_CLIENT_AC_MAX_DOWNLOAD_CONCURRENCY, else 64).</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int Concurrency { get; set; }

    /// <summary>
    /// A file that fails is a non-terminating error and the other files go on (the Copy-Item convention), so that
    /// -ErrorAction, -ErrorVariable, $Error and $? report each failure; -ErrorAction Stop makes it terminating again.
    /// </summary>
    [Parameter]
    public SwitchParameter ContinueOnError { get; set; }

    /// <summary>Skip the end-to-end Xet hash check of each file.</summary>
    [Parameter]
    public SwitchParameter SkipVerification { get; set; }

    // What Get-XetFileList already knows about the file, bound by property name: it saves a resolve call per file.
    // Hidden: they describe the piped object, they are not knobs.
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? Size { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? XetHash { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? Sha256 { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public bool? IsXet { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? GitOid { get; set; }

    protected override void BeginProcessing()
    {
        if (IntoCache) _cache = ResolveCache();
        else _destinationRoot = ResolveDestination();
        // Settings are checked now (environment, token file, knobs), before any input and any request; the session
        // for an endpoint opens when its first file arrives (the endpoint may come with the piped entries).
        XetSessionOptions options;
        try
        {
            options = Options(Endpoint);
        }
        catch (Exception e) when (e is ArgumentException or IOException)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, Endpoint));
            return; // not reached: ThrowTerminatingError always throws
        }
        _askFirst = CommonPreferences.ShouldProcessActs(this, Impact);
        _nonTerminating = ContinueOnError && CommonPreferences.ErrorAction(this) != ActionPreference.Stop;
        _board = new ProgressBoard(_cache?.Root ?? _destinationRoot);
        _queue = new SaveQueue(_outbox, Math.Max(1, options.MaxFilesInFlight), _cancellation.Token);
    }

    protected override void ProcessRecord()
    {
        DrainAvailable();
        var paths = IsLiteral ? LiteralPath : Path;
        if (_firstFailure is not null)
        {
            // A failure ended the batch while this input was on its way: it is not accepted.
            _batch.Refused(paths.Length);
            EndBatch();
            return;
        }
        Accept(paths);
        DrainAvailable();
        if (_firstFailure is not null) EndBatch();
    }

    protected override void EndProcessing()
    {
        if (_queue is null) return;
        EndBatch();
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose()
    {
        _cancellation.Cancel();
        var workersEnded = _queue?.WaitForWorkers(StopGrace) ?? true;
        // Bounded: a session that cannot release its connections in time must not hold the prompt hostage.
        foreach (var session in _sessions.Values) BoundedWait.For(session.DisposeAsync(), StopGrace);
        _sessions.Clear();
        // A worker still inside an engine call past the grace period keeps using the token: leave it undisposed.
        if (workersEnded) _cancellation.Dispose();
    }

    /// <summary>
    /// The engine settings for <paramref name="endpoint"/> (null: HF_ENDPOINT or the default Hub). Throws
    /// ArgumentException or IOException for bad settings.
    /// </summary>
    private XetSessionOptions Options(string? endpoint)
    {
        var options = ResolveSettings(endpoint);
        if (MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit))) options.MaxFilesInFlight = ThrottleLimit;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(BufferSize))) options.BufferSize = BufferSize;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Concurrency))) options.CasConcurrency = Concurrency;
        if (SkipVerification) options.Verify = false;
        options.Validate();
        return options;
    }

    private XetSession SessionFor(string? endpoint)
    {
        var key = endpoint?.Trim().TrimEnd('/') ?? string.Empty;
        if (_sessions.TryGetValue(key, out var session)) return session;
        session = new XetSession(Options(endpoint), _outbox.Log);
        _sessions[key] = session;
        return session;
    }

    /// <summary>The bound -Repo and -RepoType as a repository id; ArgumentException when they do not make one.</summary>
    private RepoId ParseRepo()
    {
        var explicitType = MyInvocation.BoundParameters.ContainsKey(nameof(RepoType))
            ? XetFileEntry.ToEngine(RepoType)
            : (RepoType?)null;
        return RepoId.Parse(Repo, explicitType);
    }

    /// <summary>
    /// Accepts the paths of one input object: each path, or each file its pattern matches, is queued. What fails
    /// here (a bad repo name or endpoint, an unsafe path, a pattern that matches nothing) fails that path like a failed
    /// download, so the paths before and after it in the same call are still accepted.
    /// </summary>
    private void Accept(string[] paths)
    {
        RepoId repo;
        XetSession session;
        try
        {
            repo = ParseRepo();
            session = SessionFor(Endpoint);
        }
        catch (Exception e) when (e is ArgumentException or IOException)
        {
            foreach (var _ in paths) _batch.FailedBeforeStart();
            Failed(Repo, XetErrors.InvalidParameter(e, Repo));
            return;
        }
        // Entries piped from Get-XetFileList (their listing metadata is bound) name files, not patterns.
        var literal = IsLiteral || IsXet is not null;
        foreach (var repoPath in paths)
        {
            if (literal || !RepoPathPattern.IsPattern(repoPath))
            {
                Queue(session, repo, repoPath, Revision, KnownEntry(repo, repoPath));
                continue;
            }
            IReadOnlyList<RepoEntry> matches;
            try
            {
                matches = _patterns.Expand(session, repo, Revision, repoPath, _cancellation.Token);
            }
            catch (OperationCanceledException) when (Stopping)
            {
                throw new PipelineStoppedException();
            }
            catch (Exception e)
            {
                // The listing's own failure (a missing repo or revision), or a pattern that does not parse ("[a-").
                _batch.FailedBeforeStart();
                Failed(repoPath, e is WildcardPatternException ? XetErrors.InvalidParameter(e, repoPath) : XetErrors.For(e, repoPath));
                continue;
            }
            if (matches.Count == 0)
            {
                var at = Revision is null ? string.Empty : $" at revision '{Revision}'";
                var none = new XetFileNotFoundException(repo.ToString(), Revision, repoPath, errorCode: null,
                    $"No file of {repo}{at} matches '{repoPath}'.");
                _batch.FailedBeforeStart();
                Failed(repoPath, XetErrors.For(none, repoPath));
                continue;
            }
            // The listing's entries pin its commit: every match comes from the same one, with no resolve call.
            foreach (var entry in matches) Queue(session, repo, entry.Path, entry.Revision, entry);
        }
    }

    private bool IsLiteral => ParameterSetName is LiteralPathSet or LiteralPathCacheSet;

    // From the bound parameters, not the set's name: with piped paths the set (Path or LiteralPath) is known only per
    // input object, and BeginProcessing must already know where the files go.
    private bool IntoCache => Cache.IsPresent || MyInvocation.BoundParameters.ContainsKey(nameof(CacheDirectory));

    private void Queue(XetSession session, RepoId repo, string repoPath, string? revision, RepoEntry? entry)
    {
        if (_cache is not null)
        {
            QueueIntoCache(session, repo, repoPath, revision, entry);
            return;
        }
        string target;
        try
        {
            target = SafePath.Combine(_destinationRoot, repoPath);
        }
        catch (Exception e)
        {
            // An unsafe repo path is refused before anything is written, and before any request for it.
            _batch.FailedBeforeStart();
            Failed(repoPath, XetErrors.For(e, repoPath));
            return;
        }
        if (_queued.Contains(target))
        {
            WriteVerbose($"Skipped {repoPath}: '{target}' is already being saved by this command.");
            return;
        }
        // ShouldProcess is asked only when it would ask or play "What if": otherwise all it adds is a second verbose
        // line per file beside the file's own outcome line.
        var revisionText = revision is null ? string.Empty : "@" + revision;
        var request = new FileDownloadRequest(repo, revision, repoPath, target)
        {
            Overwrite = Force,
            Entry = entry,
        };
        if (_askFirst && !ShouldProcess(target, Operation($"Download {repo}{revisionText}:{repoPath}", token => session.PlanAsync(request, token)))) return;
        _queued.Add(target);

        var item = new SaveItem(_nextProgressId++, _batch.Accept(), session, repo, repoPath, request);
        _board!.Queued(item);
        _queue!.Enqueue(item);
    }

    /// <summary>
    /// Queues <paramref name="repoPath"/> for the cache: the same checks as for a folder (an unsafe repo path is refused
    /// before any request), the same file asked twice is saved once.
    /// </summary>
    private void QueueIntoCache(XetSession session, RepoId repo, string repoPath, string? revision, RepoEntry? entry)
    {
        try
        {
            SafePath.Combine(_cache!.RepoFolder(repo), repoPath);
        }
        catch (Exception e)
        {
            _batch.FailedBeforeStart();
            Failed(repoPath, XetErrors.For(e, repoPath));
            return;
        }
        var revisionText = "@" + (revision ?? HubCache.DefaultRevision);
        var key = $"{repo.ApiPath}{revisionText}:{repoPath}";
        if (_queued.Contains(key))
        {
            WriteVerbose($"Skipped {repoPath}: it is already being saved by this command.");
            return;
        }
        var request = new CacheDownloadRequest(repo, revision, repoPath, _cache) { Entry = entry };
        if (_askFirst && !ShouldProcess(_cache.RepoFolder(repo), Operation($"Download {repo}{revisionText}:{repoPath} into the Hugging Face cache",
                token => session.PlanAsync(request, token)))) return;
        _queued.Add(key);
        var item = new SaveItem(_nextProgressId++, _batch.Accept(), session, repo, repoPath, null, request);
        _board!.Queued(item);
        _queue!.Enqueue(item);
    }

    /// <summary>
    /// The operation -WhatIf and -Confirm name. Under -WhatIf it carries the file's plan, as Test-XetFile finds it
    /// (a resolve, unless the listing piped in gave the entry; no transfer, nothing written): "missing, 1.20 MB to
    /// download", "up to date, nothing to download". A plan that cannot be made is said instead; -WhatIf never fails on it.
    /// </summary>
    private string Operation(string description, Func<CancellationToken, Task<FilePlan>> plan)
    {
        if (!WhatIfRequested) return description;
        try
        {
            return $"{description} ({XetFilePlan.Describe(plan(_cancellation.Token).GetAwaiter().GetResult())})";
        }
        catch (OperationCanceledException) when (Stopping)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception e)
        {
            return $"{description} (no plan: {e.Message})";
        }
    }

    private bool WhatIfRequested => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
        ? ((SwitchParameter)whatIf).IsPresent
        : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    /// <summary>The cache: -CacheDirectory, else the one huggingface_hub uses in this environment.</summary>
    private HubCache ResolveCache()
    {
        try
        {
            return CacheFolder.Resolve(SessionState, CacheDirectory);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, CacheDirectory));
            throw; // not reached
        }
    }

    /// <summary>The metadata piped in from Get-XetFileList, when it pins a commit (<see cref="PipedEntry"/>).</summary>
    private RepoEntry? KnownEntry(RepoId repo, string repoPath) =>
        PipedEntry.From(repo, Revision, (IsLiteral ? LiteralPath : Path).Length, repoPath, Size, IsXet, XetHash, Sha256, GitOid);

    private string ResolveDestination()
    {
        string root;
        try
        {
            root = Destination is null
                ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination, out var provider, out _) is var resolved
                  && provider.Name == "FileSystem"
                    ? resolved
                    : throw new ArgumentException($"The destination '{Destination}' is not a file-system path.", nameof(Destination));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, Destination));
            throw; // not reached
        }
        if (File.Exists(root))
        {
            var e = new ArgumentException($"The destination '{root}' is a file; Save-XetFile needs a folder.", nameof(Destination));
            ThrowTerminatingError(XetErrors.InvalidParameter(e, Destination));
        }
        return root;
    }

    private void DrainAvailable()
    {
        while (_outbox.Reader.TryRead(out var message)) Handle(message);
    }

    /// <summary>
    /// No more input: drains the outbox until every accepted file has ended, closes the progress, writes the
    /// summary, and throws the batch's terminating error when a failure ended it. A stop meanwhile ends it at once.
    /// </summary>
    private void EndBatch()
    {
        _queue!.CompleteAdding();
        try
        {
            var reader = _outbox.Reader;
            while (true)
            {
                while (reader.TryRead(out var message)) Handle(message);
                if (!reader.WaitToReadAsync(_cancellation.Token).AsTask().GetAwaiter().GetResult()) break;
            }
        }
        catch (OperationCanceledException) when (Stopping)
        {
            _queue.WaitForWorkers(StopGrace);
            throw new PipelineStoppedException();
        }
        WriteProgressRecords(_board!.RenderFinal());
        WriteProgressRecords(_board.Complete());
        if (_batch.Files > 0)
        {
            // The closing line at -Verbose; the same as an information record (tags XetPs, Summary), which
            // -InformationVariable keeps and -InformationAction Continue shows.
            var summary = _batch.Summary();
            WriteVerbose(summary);
            WriteInformation(summary, new[] { "XetPs", "Summary" });
        }
        if (_firstFailure is { } failure) ThrowTerminatingError(BatchError(failure));
    }

    private void Handle(OutboxMessage message)
    {
        switch (message)
        {
            case LogLine log:
                WriteLog(log);
                break;
            case FileStarted started:
                WriteDebug($"Downloading {started.Item.Repo}:{started.Item.RepoPath}");
                break;
            case FileProgressed progressed:
                var progress = progressed.Source.Take();
                // Arrived, not only written: the bar moves while a range (up to a whole xorb) is still arriving.
                _board!.Progressed(progressed.Item, Math.Max(progress.BytesWritten, progress.BytesArrived), progress.TotalBytes);
                WriteProgressRecords(_board.RenderIfDue());
                break;
            case FileSaved saved:
                OnSaved(saved.Item, saved.Result);
                break;
            case FileFailed failed:
                OnFailed(failed.Item, failed.Exception);
                break;
        }
    }

    private void OnSaved(SaveItem item, FileDownloadResult result)
    {
        RepoNameCompleter.Remember(item.Repo.ToString());
        RepoPathCompleter.Remember(item.Repo, new[] { item.RepoPath });
        var completed = _board!.Finished(item, result.Size, transferred: !result.Skipped);
        if (completed is not null) WriteProgress(completed);
        WriteProgressRecords(_board.RenderIfDue());
        if (result.Skipped)
            WriteVerbose($"Skipped {item.RepoPath}: '{result.DestinationPath}' already has the same size and hash.");
        else
            WriteVerbose($"Saved {item.RepoPath} to '{result.DestinationPath}' ({ByteSize.Format(result.Size)} in {result.Elapsed.TotalSeconds:0.0} s"
                         + (result.Resumed ? ", resumed" : string.Empty)
                         + (result.BytesReused > 0 ? $", {ByteSize.Format(result.BytesReused)} reused from the earlier copy" : string.Empty) + ").");
        PassThrough(_batch.Ended(item.Order, result.DestinationPath, result.Skipped, result.Size));
    }

    private void OnFailed(SaveItem item, Exception exception)
    {
        if (exception is OperationCanceledException && _cancellation.IsCancellationRequested)
            return; // the consequence of a stop, not a cause
        var completed = _board!.Finished(item, item.KnownSize ?? 0, transferred: false);
        if (completed is not null) WriteProgress(completed);
        var released = _batch.Ended(item.Order, destination: null, skipped: false, size: 0);
        // Offline, a file that is not on disk fails alone, as huggingface_hub answers: each missing one is named, and
        // the others are answered whatever the batch mode.
        if (exception is XetOfflineException) WriteError(XetErrors.For(exception, item.RepoPath));
        else Failed(item.RepoPath, XetErrors.For(exception, item.RepoPath));
        PassThrough(released);
    }

    /// <summary>
    /// A file (a path, a pattern or an input object) failed. With -ContinueOnError: a non-terminating error now.
    /// Otherwise the first failure ends the batch (thrown once the accepted files are done) and every failure gets
    /// a verbose line now, since only the first reaches the error stream.
    /// </summary>
    private void Failed(string target, ErrorRecord record)
    {
        if (_nonTerminating)
        {
            WriteError(record);
            return;
        }
        _firstFailure ??= record;
        WriteVerbose($"Failed {target}: {record.ErrorDetails?.Message ?? record.Exception.Message}");
    }

    /// <summary>
    /// The terminating error a failed batch ends with: the first failure's record, its Exception the originating
    /// exception, its shown message (ErrorDetails: what pwsh prints and "$_" gives) followed, when the call was
    /// about more than that one file, by what became of the batch.
    /// </summary>
    private ErrorRecord BatchError(ErrorRecord first)
    {
        if (_batch.Files <= 1) return first;
        var shown = (first.ErrorDetails?.Message ?? first.Exception.Message).TrimEnd();
        if (first.TargetObject is string target && target.Length > 0 && shown.IndexOf(target, StringComparison.Ordinal) < 0)
            shown = target + ": " + shown;
        first.ErrorDetails = new ErrorDetails($"{shown} The batch: {_batch.Counts()}.");
        return first;
    }

    /// <summary>-PassThru: the FileSystem provider's items for files that may now leave, in input order.</summary>
    private void PassThrough(IReadOnlyList<string> destinations)
    {
        if (!PassThru) return;
        // The provider's item, as Get-Item returns it: a bare FileInfo lacks the notes (PSPath, and UnixStat on Unix)
        // that the default file view and cmdlets such as Remove-Item read.
        foreach (var destination in destinations)
            WriteObject(SessionState.InvokeProvider.Item.Get(new[] { destination }, true, true), true);
    }

    private void WriteLog(LogLine log)
    {
        // -Verbose shows one line per file (written by the cmdlet) and the engine's warnings (retries, refreshes);
        // the engine's step-by-step account is -Debug.
        if (log.Level <= XetLogLevel.Information) WriteDebug(log.Text);
        else WriteVerbose(log.Text);
    }

    private void WriteProgressRecords(IReadOnlyList<ProgressRecord> records)
    {
        foreach (var record in records) WriteProgress(record);
    }
}
