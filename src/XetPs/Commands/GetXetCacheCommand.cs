using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using XetPs.Cache;

namespace XetPs.Commands;

/// <summary>
/// Get-XetCache: what the Hugging Face cache holds, as <c>hf cache scan</c> reports it: one
/// <see cref="XetCachedRepo"/> per repository (revisions, refs, files, size on disk, last modified and accessed), or
/// with -Incomplete the partial blobs interrupted downloads left. The cache is the one Python and JavaScript use too.
/// Thin: the scan is the engine's <see cref="CacheScan"/>; what does not read as a cached repository is a warning.
/// Reads only, sends nothing.
/// </summary>
[Cmdlet(VerbsCommon.Get, "XetCache", DefaultParameterSetName = RepoSet)]
[OutputType(typeof(XetCachedRepo), ParameterSetName = new[] { RepoSet })]
[OutputType(typeof(XetCachedIncompleteFile), ParameterSetName = new[] { IncompleteSet })]
public sealed class GetXetCacheCommand : PSCmdlet
{
    private const string RepoSet = "Repo", IncompleteSet = "Incomplete";

    /// <summary>Repositories to show ("org/name", wildcards allowed); default: all.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = RepoSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Repo { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RepoSet)]
    public XetRepoType? RepoType { get; set; }

    /// <summary>List the partial blobs (blobs/*.incomplete) instead of the repositories.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IncompleteSet)]
    public SwitchParameter Incomplete { get; set; }

    /// <summary>The cache to read; default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CacheDirectory { get; set; }

    private CacheScanResult? _scan;
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);

    protected override void BeginProcessing()
    {
        HubCache cache;
        try
        {
            cache = CacheFolder.Resolve(SessionState, CacheDirectory);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(XetErrors.InvalidParameter(e, CacheDirectory));
            return;
        }
        try
        {
            _scan = CacheScan.Scan(cache);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(XetErrors.For(e, cache.Root));
            return;
        }
        foreach (var warning in _scan.Warnings) WriteWarning(warning);
        if (Incomplete)
        {
            var now = DateTime.UtcNow;
            foreach (var file in _scan.Incomplete) WriteObject(new XetCachedIncompleteFile(file, now));
        }
    }

    protected override void ProcessRecord()
    {
        if (Incomplete || _scan is null) return;
        var patterns = (Repo ?? new[] { "*" }).Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase)).ToList();
        foreach (var repo in _scan.Repos)
        {
            if (RepoType is { } type && XetFileEntry.ToModule(repo.Repo.Type) != type) continue;
            if (!patterns.Any(p => p.IsMatch(repo.Repo.Name) || p.IsMatch(repo.Repo.ToString()))) continue;
            if (_written.Add(repo.FolderPath)) WriteObject(new XetCachedRepo(repo, _scan.Root));
        }
    }
}
