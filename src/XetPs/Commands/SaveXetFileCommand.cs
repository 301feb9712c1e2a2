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
/// Thin by design: binds and validates (before any network call), asks ShouldProcess per file, hands the files to a
/// <see cref="SaveQueue"/> on one <see cref="XetSession"/> for the whole pipeline, and turns the engine's messages
/// into objects, progress, verbose lines and errors. Invariant: every Write* call happens on the pipeline thread
/// (ProcessRecord/EndProcessing draining the <see cref="Outbox"/>); workers never call into PowerShell.
/// A failed file stops the pipeline with a terminating error whose Exception is the engine's own exception.
/// </summary>
[Cmdlet(VerbsData.Save, "XetFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = DestinationSet)]
[OutputType(typeof(FileInfo))]
public sealed class SaveXetFileCommand : HubCmdlet, IDisposable
{
    private const string DestinationSet = "Destination", CacheSet = "Cache";
    private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(1500);

    private readonly CancellationTokenSource _cancellation = new();
    private readonly Outbox _outbox = new();
    // One session per Hub endpoint (almost always exactly one): its files share buffer, connections and xorb cache.
    private readonly Dictionary<string, XetSession> _sessions = new(StringComparer.Ordinal);
    // Destinations already queued by this pipeline: the same file twice would race itself for the partial file.
    private readonly HashSet<string> _queued = new(
        Environment.OSVersion.Platform == PlatformID.Win32NT ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
    private SaveQueue? _queue;
    private ProgressBoard? _board;
    private string _destinationRoot = string.Empty;
    private HubCache? _cache;
    private int _nextProgressId = ProgressBoard.ParentId + 1;
    private bool _failed;

    /// <summary>The repository, "org/name" (or "datasets/org/name", "spaces/org/name"; a legacy "gpt2" or an old id the Hub redirects).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RepoNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Repo { get; set; } = string.Empty;

    /// <summary>Repo-relative paths of the files to download.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Branch, tag or commit; default: the repository's default branch.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Revision { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public XetRepoType RepoType { get; set; } = XetRepoType.Model;

    /// <summary>The folder that receives the files; default: the current location.</summary>
    [Parameter(Position = 2, ParameterSetName = DestinationSet)]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Save into the Hugging Face cache (HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub).</summary>
    [Parameter(ParameterSetName = CacheSet)]
    public SwitchParameter Cache { get; set; }

    /// <summary>Save into the Hugging Face cache at this folder instead of the default one (implies -Cache).</summary>
    [Parameter(ParameterSetName = CacheSet)]
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
        if (ParameterSetName == CacheSet) _cache = ResolveCache();
        else _destinationRoot = ResolveDestination();
        // Settings are checked now (environment, token file, knobs), before any input and any request; the session
        // for an endpoint opens when its first file arrives (the endpoint may come with the piped entries).
        var options = Options(Endpoint);
        _board = new ProgressBoard("Save-XetFile to " + (_cache?.Root ?? _destinationRoot));
        _queue = new SaveQueue(_outbox, Math.Max(1, options.MaxFilesInFlight), _cancellation.Token);
    }

    protected override void ProcessRecord()
    {
        var repo = ParseRepo();
        var session = SessionFor(Endpoint);
        foreach (var repoPath in Path)
        {
            if (_cache is not null)
            {
                QueueIntoCache(repo, session, repoPath);
                continue;
            }
            string target;
            try
            {
                target = SafePath.Combine(_destinationRoot, repoPath);
            }
            catch (Exception e)
            {
                // An unsafe repo path is refused before anything is written, and before any request.
                ThrowTerminatingError(XetErrors.For(e, repoPath));
                return;
            }
            var revisionText = Revision is null ? string.Empty : "@" + Revision;
            if (_queued.Contains(target))
            {
                WriteVerbose($"Skipped {repoPath}: '{target}' is already being saved by this command.");
                continue;
            }
            var request = new FileDownloadRequest(repo, Revision, repoPath, target)
            {
                Overwrite = Force,
                Entry = KnownEntry(repo, repoPath),
            };
            if (!ShouldProcess(target, Operation($"Download {repo}{revisionText}:{repoPath}", token => session.PlanAsync(request, token)))) continue;
            _queued.Add(target);

            var item = new SaveItem(_nextProgressId++, session, repo, repoPath, request);
            _board!.Queued(item);
            _queue!.Enqueue(item);
        }
        DrainAvailable();
    }

    /// <summary>
    /// Queues <paramref name="repoPath"/> for the cache: the same checks as for a folder (an unsafe repo path is refused
    /// before any request), the same file asked twice is saved once.
    /// </summary>
    private void QueueIntoCache(RepoId repo, XetSession session, string repoPath)
    {
        try
        {
            SafePath.Combine(_cache!.RepoFolder(repo), repoPath);
        }
        catch (Exception e)
        {
            ThrowTerminatingError(XetErrors.For(e, repoPath));
            return;
        }
        var revisionText = "@" + (Revision ?? HubCache.DefaultRevision);
        var key = $"{repo.ApiPath}{revisionText}:{repoPath}";
        if (_queued.Contains(key))
        {
            WriteVerbose($"Skipped {repoPath}: it is already being saved by this command.");
            return;
        }
        var request = new CacheDownloadRequest(repo, Revision, repoPath, _cache) { Entry = KnownEntry(repo, repoPath) };
        if (!ShouldProcess(_cache.RepoFolder(repo), Operation($"Download {repo}{revisionText}:{repoPath} into the Hugging Face cache",
                token => session.PlanAsync(request, token)))) return;
        _queued.Add(key);
        var item = new SaveItem(_nextProgressId++, session, repo, repoPath, null, request);
        _board!.Queued(item);
        _queue!.Enqueue(item);
    }

    protected override void EndProcessing()
    {
        if (_queue is null) return;
        _queue.CompleteAdding();
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
        WriteProgressRecords(_board!.Complete());
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

    /// <summary>The engine settings for <paramref name="endpoint"/> (null: HF_ENDPOINT or the default Hub).</summary>
    private XetSessionOptions Options(string? endpoint)
    {
        try
        {
            var options = ResolveSettings(endpoint);
            if (MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit))) options.MaxFilesInFlight = ThrottleLimit;
            if (MyInvocation.BoundParameters.ContainsKey(nameof(BufferSize))) options.BufferSize = BufferSize;
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Concurrency))) options.CasConcurrency = Concurrency;
            if (SkipVerification) options.Verify = false;
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is ArgumentException or IOException)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, endpoint));
            throw; // not reached: ThrowTerminatingError always throws
        }
    }

    private XetSession SessionFor(string? endpoint)
    {
        var key = endpoint?.Trim().TrimEnd('/') ?? string.Empty;
        if (_sessions.TryGetValue(key, out var session)) return session;
        session = new XetSession(Options(endpoint), _outbox.Log);
        _sessions[key] = session;
        return session;
    }

    private RepoId ParseRepo()
    {
        try
        {
            var explicitType = MyInvocation.BoundParameters.ContainsKey(nameof(RepoType))
                ? XetFileEntry.ToEngine(RepoType)
                : (RepoType?)null;
            return RepoId.Parse(Repo, explicitType);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, Repo));
            throw; // not reached: ThrowTerminatingError always throws
        }
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

    /// <summary>The metadata piped in from Get-XetFileList, when it pins a commit (<see cref="PipedEntry"/>).</summary>
    private RepoEntry? KnownEntry(RepoId repo, string repoPath) =>
        PipedEntry.From(repo, Revision, Path.Length, repoPath, Size, IsXet, XetHash, Sha256, GitOid);

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
                if (_failed) break;
                _board!.Progressed(progressed.Item, progress.BytesWritten, progress.TotalBytes);
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
        var completed = _board!.Finished(item, result.Size, transferred: !result.Skipped);
        if (completed is not null) WriteProgress(completed);
        if (result.Skipped)
            WriteVerbose($"Skipped {item.RepoPath}: '{result.DestinationPath}' already has the same size and hash.");
        else
            WriteVerbose($"Saved {item.RepoPath} to '{result.DestinationPath}' ({ByteSize.Format(result.Size)} in {result.Elapsed.TotalSeconds:0.0} s"
                         + (result.Resumed ? ", resumed" : string.Empty) + ").");
        // The FileSystem provider's item, as Get-Item returns it: a bare FileInfo lacks the notes (PSPath, and UnixStat
        // on Unix) that the default file view and cmdlets such as Remove-Item read.
        if (PassThru) WriteObject(SessionState.InvokeProvider.Item.Get(new[] { result.DestinationPath }, true, true), true);
    }

    private void OnFailed(SaveItem item, Exception exception)
    {
        if (_failed || (exception is OperationCanceledException && _cancellation.IsCancellationRequested))
            return; // the consequence of the first failure (or of a stop), not a cause
        if (exception is XetOfflineException)
        {
            // Offline, a file that is not on disk fails alone: the others are answered, and each missing one is named.
            if (_board!.Finished(item, 0, transferred: false) is { } completed) WriteProgress(completed);
            WriteError(XetErrors.For(exception, item.RepoPath));
            return;
        }
        _failed = true;
        _cancellation.Cancel();
        _queue!.WaitForWorkers(StopGrace);
        DrainAvailable(); // their last messages: logs are kept, further failures ignored
        WriteProgressRecords(_board!.Complete());
        ThrowTerminatingError(XetErrors.For(exception, item.RepoPath));
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
