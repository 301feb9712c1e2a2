using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Threading;
using XetPs.Cache;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>
/// Get-XetFileList: the files of a repository folder at a revision, streamed as the Hub's pages arrive, as
/// <see cref="XetFileEntry"/> objects that Save-XetFile binds by property name.
/// Invariants: objects and log lines are written on the pipeline thread only (the listing is enumerated there;
/// engine log lines wait in the <see cref="Outbox"/> until the next entry); parameters are validated before the
/// first request; a failure is a terminating error carrying the engine's own exception.
/// </summary>
[Cmdlet(VerbsCommon.Get, "XetFileList")]
[OutputType(typeof(XetFileEntry))]
public sealed class GetXetFileListCommand : HubCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Outbox _outbox = new();
    private XetSession? _session;
    private HubCache? _cache; // offline: the listing comes from here
    private Uri _endpoint = new(SessionSettings.DefaultEndpoint);
    private RepoPathFilter _filter = new(null, null);

    /// <summary>The repository, "org/name" (or "datasets/org/name", "spaces/org/name"; a legacy "gpt2" or an old id the Hub redirects).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RepoNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Repo { get; set; } = string.Empty;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public XetRepoType RepoType { get; set; } = XetRepoType.Model;

    /// <summary>Branch, tag or commit; default: the repository's default branch.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Revision { get; set; }

    /// <summary>A folder of the repository (default: its root), or a file, which is then listed alone.</summary>
    [Parameter(Position = 1)]
    [ArgumentCompleter(typeof(RepoPathCompleter))]
    public string? Path { get; set; }

    /// <summary>Wildcards a repo path (or its file name) must match.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Include { get; set; }

    /// <summary>Wildcards that drop a repo path (or file name).</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Exclude { get; set; }

    /// <summary>List the files of every subfolder too.</summary>
    [Parameter]
    public SwitchParameter Recurse { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Endpoint { get; set; }

    /// <summary>Offline, the Hugging Face cache to list from instead of the default one.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CacheDirectory { get; set; }

    protected override void BeginProcessing()
    {
        XetSessionOptions options;
        try
        {
            _filter = new RepoPathFilter(Include, Exclude);
            options = ResolveSettings(Endpoint);
        }
        catch (Exception e) when (e is ArgumentException or IOException or WildcardPatternException)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, Endpoint));
            return;
        }
        _endpoint = options.Endpoint;
        if (options.Offline) _cache = ResolveCache();
        else _session = new XetSession(options, _outbox.Log);
    }

    /// <summary>The cache an offline listing reads: -CacheDirectory, else the one huggingface_hub uses here.</summary>
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

    /// <summary>Offline: the snapshot the cache holds, filtered as a listing from the Hub would be.</summary>
    private void ListFromCache(RepoId repo, string? folder)
    {
        IReadOnlyList<RepoEntry> entries;
        try
        {
            entries = CachedSnapshot.List(_cache!, repo, Revision, folder, Recurse);
        }
        catch (Exception e) when (e is XetOfflineException or UnsafeRepoPathException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(XetErrors.For(e, repo.ToString()));
            return;
        }
        foreach (var entry in entries)
            if (_filter.Keeps(entry.Path)) WriteObject(XetFileEntry.From(entry, _endpoint));
        RepoNameCompleter.Remember(repo.ToString());
    }

    protected override void ProcessRecord()
    {
        RepoId repo;
        try
        {
            var explicitType = MyInvocation.BoundParameters.ContainsKey(nameof(RepoType))
                ? XetFileEntry.ToEngine(RepoType)
                : (RepoType?)null;
            repo = RepoId.Parse(Repo, explicitType);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, Repo));
            return;
        }

        var folder = string.IsNullOrWhiteSpace(Path) ? null : Path!.Replace('\\', '/').Trim('/');
        if (_cache is not null)
        {
            ListFromCache(repo, folder);
            return;
        }
        var listed = new List<string>();
        var entries = _session!.ListFilesAsync(repo, Revision, folder, Recurse, _cancellation.Token).GetAsyncEnumerator(_cancellation.Token);
        try
        {
            while (true)
            {
                RepoEntry entry;
                try
                {
                    if (!Next(entries))
                    {
                        // Nothing under a path: it may name a file (git has no empty folders), listed alone then.
                        if (folder is not null && listed.Count == 0 && FileAt(repo, folder, notFound: null) is { } file) Write(file, listed);
                        break;
                    }
                    entry = entries.Current;
                }
                catch (OperationCanceledException) when (Stopping)
                {
                    throw new PipelineStoppedException();
                }
                catch (XetFileNotFoundException e) when (folder is not null && listed.Count == 0 && !NamesRepoOrRevision(e))
                {
                    // The Hub lists folders only: a file's path is "not found" there, as Get-ChildItem would not say.
                    WriteLogs();
                    Write(FileAt(repo, folder, notFound: e)!, listed);
                    break;
                }
                catch (Exception e)
                {
                    // Only the engine's own failures land here: WriteObject (and so any downstream cmdlet's error)
                    // stays outside this try, so a later command's terminating error is never re-attributed.
                    WriteLogs();
                    ThrowTerminatingError(XetErrors.For(e, repo.ToString()));
                    return;
                }
                WriteLogs();
                Write(entry, listed);
            }
            WriteLogs();
            RepoNameCompleter.Remember(repo.ToString());
            RepoPathCompleter.Remember(repo, listed);
        }
        finally
        {
            // Bounded: releasing a half-read page must not hold the pipeline after a stop.
            BoundedWait.For(entries.DisposeAsync(), TimeSpan.FromSeconds(2));
        }
    }

    private void Write(RepoEntry entry, List<string> listed)
    {
        listed.Add(entry.Path);
        if (_filter.Keeps(entry.Path)) WriteObject(XetFileEntry.From(entry, _endpoint));
    }

    /// <summary>
    /// The file at <paramref name="path"/> (one resolve call), or, when there is none, null if the listing was merely
    /// empty, else a terminating error with the listing's own not-found exception (<paramref name="notFound"/>).
    /// </summary>
    private RepoEntry? FileAt(RepoId repo, string path, XetFileNotFoundException? notFound)
    {
        try
        {
            return _session!.GetFileAsync(repo, Revision, path, _cancellation.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (Stopping)
        {
            throw new PipelineStoppedException();
        }
        catch (XetFileNotFoundException) when (notFound is null)
        {
            return null;
        }
        catch (XetFileNotFoundException)
        {
            ThrowTerminatingError(XetErrors.For(notFound!, repo.ToString()));
            return null; // not reached
        }
        catch (Exception e)
        {
            WriteLogs();
            ThrowTerminatingError(XetErrors.For(e, repo.ToString()));
            return null; // not reached
        }
    }

    // A missing repository or revision is final; only a missing entry may be a file's path.
    private static bool NamesRepoOrRevision(XetFileNotFoundException e) =>
        e.ErrorCode is "RepoNotFound" or "RevisionNotFound" or "GatedRepo" or "DisabledRepo";

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose()
    {
        _cancellation.Cancel();
        if (_session is not null)
        {
            BoundedWait.For(_session.DisposeAsync(), TimeSpan.FromSeconds(2));
            _session = null;
        }
        _cancellation.Dispose();
    }

    // The pipeline thread waits for the next page here; the engine runs on the thread pool meanwhile.
    private static bool Next(IAsyncEnumerator<RepoEntry> entries) => entries.MoveNextAsync().AsTask().GetAwaiter().GetResult();

    private void WriteLogs()
    {
        while (_outbox.Reader.TryRead(out var message))
        {
            if (message is not LogLine log) continue;
            if (log.Level <= XetLogLevel.Information) WriteDebug(log.Text);
            else WriteVerbose(log.Text);
        }
    }
}
