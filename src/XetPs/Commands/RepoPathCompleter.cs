using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using XetPs.Hub;

namespace XetPs.Commands;

/// <summary>
/// Tab completion for -Path: the repo paths of the bound -Repo that this process has already listed (Get-XetFileList,
/// or the listing Save-XetFile reads to expand wildcards) or saved. Get-XetFileList's -Path also offers the folders
/// those paths lie in. Invariant: never calls the network (completion must be instant and work offline), so a repo
/// never listed in this session offers nothing; each repo keeps at most <see cref="MaxPathsPerRepo"/> paths.
/// </summary>
public sealed class RepoPathCompleter : IArgumentCompleter
{
    internal const int MaxPathsPerRepo = 100_000;

    private static readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> Known = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Remembers paths of <paramref name="repo"/> (files, as the Hub lists them) for later completion.</summary>
    internal static void Remember(RepoId repo, IEnumerable<string> paths)
    {
        var known = Known.GetOrAdd(repo.ToString(), _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
        foreach (var path in paths)
        {
            if (known.Count >= MaxPathsPerRepo) return;
            known.TryAdd(path, 0);
        }
    }

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (RepoOf(fakeBoundParameters) is not { } repo || !Known.TryGetValue(repo, out var known))
            return Array.Empty<CompletionResult>();
        var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"').Replace('\\', '/');
        IEnumerable<string> candidates = known.Keys;
        if (string.Equals(commandName, "Get-XetFileList", StringComparison.OrdinalIgnoreCase))
            candidates = candidates.Concat(candidates.SelectMany(FoldersOf)).Distinct(StringComparer.Ordinal);
        return candidates
            .Where(path => path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(path => path, StringComparer.OrdinalIgnoreCase)
            .Select(path => new CompletionResult(Quote(path), path, CompletionResultType.ParameterValue, path))
            .ToList();
    }

    /// <summary>The bound -Repo (with -RepoType) as the key paths are remembered under, or null.</summary>
    private static string? RepoOf(IDictionary bound)
    {
        if (bound["Repo"] is not { } value) return null;
        var text = value is PSObject wrapped ? wrapped.BaseObject.ToString() : value.ToString();
        if (string.IsNullOrWhiteSpace(text)) return null;
        RepoType? type = null;
        if (bound["RepoType"] is { } typeValue && LanguagePrimitives.TryConvertTo<XetRepoType>(typeValue, out var repoType))
            type = XetFileEntry.ToEngine(repoType);
        try
        {
            return RepoId.Parse(text!, type).ToString();
        }
        catch (ArgumentException)
        {
            return null; // not a repo name (yet): nothing to offer
        }
    }

    private static IEnumerable<string> FoldersOf(string path)
    {
        for (var slash = path.IndexOf('/'); slash > 0; slash = path.IndexOf('/', slash + 1))
            yield return path.Substring(0, slash);
    }

    // Spaces, quotes and other characters PowerShell would read as syntax: single quotes keep the path as written
    // (-Path takes a path that is exactly a file's as that file, even with brackets in it).
    private static string Quote(string path) =>
        path.IndexOfAny([' ', '\'', '"', '`', '$', '(', ')', '{', '}', ',', ';', '&', '@', '#', '|', '<', '>']) >= 0
            ? "'" + path.Replace("'", "''") + "'"
            : path;
}
