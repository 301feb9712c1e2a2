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
/// Test-XetFile: the plan a scheduled job reads before it runs Save-XetFile: for each file, its state against the
/// Hub's revision (up to date, missing, changed, partial with the bytes already there, unverified) and the bytes a
/// download would need, in a folder (-Destination) or the Hugging Face cache (-Cache). Takes what Save-XetFile takes,
/// by property name from Get-XetFileList, and writes <see cref="XetFilePlan"/> objects that bind back into
/// Save-XetFile. Thin: the plan is the engine's (<see cref="XetSession.PlanAsync(FileDownloadRequest, CancellationToken)"/>),
/// made with a resolve call at most per file (none for piped entries, none offline), no transfer, nothing written.
/// A file that cannot be planned (not found, refused) is a non-terminating error; the others are planned.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "XetFile", DefaultParameterSetName = DestinationSet)]
[OutputType(typeof(XetFilePlan))]
public sealed class TestXetFileCommand : HubCmdlet, IDisposable
{
    private const string DestinationSet = "Destination", CacheSet = "Cache";

    private readonly CancellationTokenSource _cancellation = new();
    private readonly Outbox _outbox = new();
    private readonly Dictionary<string, (XetSession Session, string Endpoint)> _sessions = new(StringComparer.Ordinal);
    private string _destinationRoot = string.Empty;
    private HubCache? _cache;

    /// <summary>The repository, "org/name" (or "datasets/org/name", "spaces/org/name").</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RepoNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Repo { get; set; } = string.Empty;

    /// <summary>Repo-relative paths of the files to plan.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Revision { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public XetRepoType RepoType { get; set; } = XetRepoType.Model;

    /// <summary>The folder Save-XetFile would save into; default: the current location.</summary>
    [Parameter(Position = 2, ParameterSetName = DestinationSet)]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Plan against the Hugging Face cache instead of a folder.</summary>
    [Parameter(ParameterSetName = CacheSet)]
    public SwitchParameter Cache { get; set; }

    /// <summary>The Hugging Face cache to plan against instead of the default one (implies -Cache).</summary>
    [Parameter(ParameterSetName = CacheSet)]
    [ValidateNotNullOrEmpty]
    public string? CacheDirectory { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Endpoint { get; set; }

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
        try
        {
            if (ParameterSetName == CacheSet) _cache = CacheFolder.Resolve(SessionState, CacheDirectory);
            else
            {
                _destinationRoot = Destination is null
                    ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                    : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination, out var provider, out _) is var resolved && provider.Name == "FileSystem"
                        ? resolved
                        : throw new ArgumentException($"The destination '{Destination}' is not a file-system path.", nameof(Destination));
            }
            ResolveSettings(Endpoint);
        }
        catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException or ProviderNotFoundException
                                      or System.Management.Automation.DriveNotFoundException)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, Destination ?? CacheDirectory ?? Endpoint));
        }
    }

    protected override void ProcessRecord()
    {
        RepoId repo;
        try
        {
            repo = RepoId.Parse(Repo, MyInvocation.BoundParameters.ContainsKey(nameof(RepoType)) ? XetFileEntry.ToEngine(RepoType) : null);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, Repo));
            return;
        }
        var (session, endpoint) = SessionFor(Endpoint);
        foreach (var repoPath in Path)
        {
            var entry = PipedEntry.From(repo, Revision, Path.Length, repoPath, Size, IsXet, XetHash, Sha256, GitOid);
            try
            {
                var plan = _cache is not null
                    ? session.PlanAsync(new CacheDownloadRequest(repo, Revision, repoPath, _cache) { Entry = entry }, _cancellation.Token).GetAwaiter().GetResult()
                    : session.PlanAsync(new FileDownloadRequest(repo, Revision, repoPath, SafePath.Combine(_destinationRoot, repoPath)) { Entry = entry },
                        _cancellation.Token).GetAwaiter().GetResult();
                WriteLogs();
                WriteObject(new XetFilePlan(repo, Revision, plan, endpoint));
            }
            catch (OperationCanceledException) when (Stopping)
            {
                throw new PipelineStoppedException();
            }
            catch (Exception e)
            {
                WriteLogs();
                WriteError(XetErrors.For(e, repoPath));
            }
        }
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose()
    {
        _cancellation.Cancel();
        foreach (var (session, _) in _sessions.Values) BoundedWait.For(session.DisposeAsync(), TimeSpan.FromSeconds(2));
        _sessions.Clear();
        _cancellation.Dispose();
    }

    private (XetSession, string) SessionFor(string? endpoint)
    {
        var key = endpoint?.Trim().TrimEnd('/') ?? string.Empty;
        if (_sessions.TryGetValue(key, out var known)) return known;
        XetSessionOptions options;
        try
        {
            options = ResolveSettings(endpoint);
        }
        catch (Exception e) when (e is ArgumentException or IOException)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, endpoint));
            throw; // not reached
        }
        var created = (new XetSession(options, _outbox.Log), options.Endpoint.ToString().TrimEnd('/'));
        _sessions[key] = created;
        return created;
    }

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
