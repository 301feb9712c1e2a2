using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using XetPs.Cache;
using XetPs.Hub;

namespace XetPs.Commands;

/// <summary>
/// Remove-XetCache: deletes from the Hugging Face cache, as <c>hf cache delete</c> does: a repository, some of its
/// revisions (commit ids or ref names), the revisions no ref points to (-Unreferenced), or partial blobs older than a
/// day (-Incomplete). Thin: the input is gathered first and planned once in EndProcessing on one scan
/// (<see cref="CacheDeletion"/>), so revisions removed together decide together which shared blobs go; each
/// repository or revision is asked for with ShouldProcess (-WhatIf, -Confirm) before anything is deleted.
/// Invariant: a blob is deleted only when no remaining snapshot links it.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "XetCache", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = RepoSet)]
[OutputType(typeof(void))]
public sealed class RemoveXetCacheCommand : PSCmdlet
{
    private const string RepoSet = "Repo", UnreferencedSet = "Unreferenced", IncompleteSet = "Incomplete";

    private readonly List<(string Repo, XetRepoType? Type, string[]? Revisions, string? Cache)> _asked = new();

    /// <summary>The repository ("org/name", or "datasets/org/name"); bound by property name from Get-XetCache.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = RepoSet)]
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = UnreferencedSet)]
    [ArgumentCompleter(typeof(RepoNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Repo { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RepoSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = UnreferencedSet)]
    public XetRepoType? RepoType { get; set; }

    /// <summary>Revisions to remove (commit ids or ref names); default: the whole repository. Bound from a revision's Commit.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RepoSet)]
    [Alias("Commit")]
    [ValidateNotNullOrEmpty]
    public string[]? Revision { get; set; }

    /// <summary>Remove the revisions no ref (branch, tag) points to: snapshots of commits a branch has moved past.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UnreferencedSet)]
    public SwitchParameter Unreferenced { get; set; }

    /// <summary>Remove partial blobs (blobs/*.incomplete) interrupted downloads left.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IncompleteSet)]
    public SwitchParameter Incomplete { get; set; }

    /// <summary>With -Incomplete: only partial blobs not written for this long (a running download writes its own often).</summary>
    [Parameter(ParameterSetName = IncompleteSet)]
    public TimeSpan OlderThan { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The cache to remove from; default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. Bound by
    /// property name from Get-XetCache's objects, so they are removed from the cache they were found in.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? CacheDirectory { get; set; }

    protected override void ProcessRecord()
    {
        if (Repo is not null || Unreferenced)
            _asked.Add((Repo ?? "", MyInvocation.BoundParameters.ContainsKey(nameof(RepoType)) ? RepoType : null, Revision, CacheDirectory));
    }

    protected override void EndProcessing()
    {
        // One plan per cache, on one scan of it: the input may name several caches (piped from several Get-XetCache).
        if (Incomplete) Remove(CacheDirectory, Array.Empty<(string, XetRepoType?, string[]?, string?)>());
        else foreach (var group in _asked.GroupBy(a => a.Cache)) Remove(group.Key, group.ToList());
    }

    private void Remove(string? cacheDirectory, IReadOnlyList<(string Repo, XetRepoType? Type, string[]? Revisions, string? Cache)> asked)
    {
        HubCache cache;
        CacheScanResult scan;
        try
        {
            cache = CacheFolder.Resolve(SessionState, cacheDirectory);
            scan = CacheScan.Scan(cache);
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(e is ArgumentException ? XetErrors.InvalidParameter(e, cacheDirectory) : XetErrors.For(e, cacheDirectory));
            return;
        }

        var revisions = new List<(RepoId Repo, string Commit)>();
        var partials = new List<CachedIncompleteFile>();
        var unscanned = new List<string>(); // folders of repositories the scan could not read: removed whole
        if (Incomplete) partials.AddRange(PartialsToRemove(scan));
        else if (Unreferenced) revisions.AddRange(UnreferencedToRemove(scan, asked));
        else
            foreach (var one in asked) revisions.AddRange(RevisionsToRemove(cache, scan, one, unscanned));

        var plan = CacheDeletion.Plan(scan, revisions, partials);
        try
        {
            foreach (var folder in unscanned) Directory.Delete(folder, recursive: true);
            plan.Execute();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(XetErrors.For(e, cache.Root));
        }
        if (revisions.Count + partials.Count + unscanned.Count > 0)
            WriteVerbose($"Removed {revisions.Count} revision(s), {plan.Blobs.Count + plan.RepoFolders.Count + unscanned.Count} blob(s) or repositories " +
                         $"and {partials.Count} partial file(s) from '{cache.Root}': {ByteSize.Format(plan.FreedBytes)} freed.");
    }

    private IEnumerable<(RepoId, string)> RevisionsToRemove(HubCache cache, CacheScanResult scan,
        (string Repo, XetRepoType? Type, string[]? Revisions, string? Cache) asked, List<string> unscanned)
    {
        RepoId id;
        try
        {
            id = RepoId.Parse(asked.Repo, asked.Type is { } type ? XetFileEntry.ToEngine(type) : null);
        }
        catch (ArgumentException e)
        {
            WriteError(XetErrors.InvalidParameter(e, asked.Repo));
            yield break;
        }
        var repo = scan.Repos.FirstOrDefault(r => r.Repo == id);
        if (repo is null)
        {
            var folder = cache.RepoFolder(id);
            if (asked.Revisions is null && Directory.Exists(folder))
            {
                // Not readable as a cached repository (a warning of Get-XetCache): removable only whole.
                if (ShouldProcess(folder, $"Remove {id} from the Hugging Face cache")) unscanned.Add(folder);
            }
            else WriteError(NotInCache($"{id} is not in the Hugging Face cache at '{cache.Root}'.", id.ToString()));
            yield break;
        }
        if (asked.Revisions is null)
        {
            if (!ShouldProcess(repo.FolderPath, $"Remove {id} ({repo.Revisions.Count} revision(s), {ByteSize.Format(repo.Size)})")) yield break;
            foreach (var revision in repo.Revisions) yield return (id, revision.Commit);
            yield break;
        }
        foreach (var name in asked.Revisions)
        {
            var commit = cache.ResolveRevision(id, name);
            var revision = repo.Revisions.FirstOrDefault(r => r.Commit == commit);
            if (revision is null)
            {
                WriteError(NotInCache($"{id} has no revision '{name}' in the Hugging Face cache at '{cache.Root}'.", name));
                continue;
            }
            var refs = revision.Refs.Count == 0 ? "no ref" : "refs " + string.Join(", ", revision.Refs);
            if (ShouldProcess(revision.SnapshotPath, $"Remove revision {revision.Commit} of {id} ({refs}, {ByteSize.Format(revision.Size)})"))
                yield return (id, revision.Commit);
        }
    }

    private IEnumerable<(RepoId, string)> UnreferencedToRemove(CacheScanResult scan,
        IReadOnlyList<(string Repo, XetRepoType? Type, string[]? Revisions, string? Cache)> requested)
    {
        var named = new HashSet<RepoId>();
        foreach (var asked in requested.Where(a => a.Repo.Length > 0))
        {
            try
            {
                named.Add(RepoId.Parse(asked.Repo, asked.Type is { } t ? XetFileEntry.ToEngine(t) : null));
            }
            catch (ArgumentException e)
            {
                WriteError(XetErrors.InvalidParameter(e, asked.Repo));
            }
        }
        if (named.Count == 0 && requested.Any(a => a.Repo.Length > 0)) yield break;
        foreach (var repo in scan.Repos)
        {
            if (named.Count > 0 && !named.Contains(repo.Repo)) continue;
            foreach (var revision in repo.Revisions.Where(r => r.Refs.Count == 0))
                if (ShouldProcess(revision.SnapshotPath, $"Remove revision {revision.Commit} of {repo.Repo} (no ref, {ByteSize.Format(revision.Size)})"))
                    yield return (repo.Repo, revision.Commit);
        }
    }

    private IEnumerable<CachedIncompleteFile> PartialsToRemove(CacheScanResult scan)
    {
        var now = DateTime.UtcNow;
        foreach (var partial in scan.Incomplete)
        {
            var age = now - partial.LastModified.UtcDateTime;
            if (age < OlderThan) continue;
            if (ShouldProcess(partial.FilePath, $"Remove a partial download ({ByteSize.Format(partial.Size)}, last written {age.TotalHours:0} h ago)"))
                yield return partial;
        }
    }

    private static ErrorRecord NotInCache(string message, string target) =>
        new(new ItemNotFoundException(message), "XetNotInCache", ErrorCategory.ObjectNotFound, target);
}
