using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace XetPs.Commands;

/// <summary>
/// Tab completion for -Repo: the repository names this process has already listed or downloaded from, and the
/// repositories of the Hugging Face cache this environment uses (HF_HUB_CACHE, HF_HOME, ...: what Python and XetPs put
/// there). Invariant: never calls the network (completion must be instant and work offline); names enter the history
/// only after a cmdlet used them successfully, so a typo is never offered back; the cache is only listed, one folder
/// read, never scanned.
/// </summary>
public sealed class RepoNameCompleter : IArgumentCompleter
{
    private static readonly ConcurrentDictionary<string, byte> Seen = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Remembers a repository name ("org/name" or "datasets/org/name") for later completion.</summary>
    internal static void Remember(string repo) => Seen.TryAdd(repo, 0);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
        return Seen.Keys.Concat(CachedRepos())
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Where(name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(name => name, StringComparer.OrdinalIgnoreCase)
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name))
            .ToList();
    }

    /// <summary>The repositories of the Hugging Face cache (its <c>models--org--name</c> folders), or none when it
    /// cannot be read: completion never fails for it.</summary>
    internal static IEnumerable<string> CachedRepos(System.Collections.IDictionary? environment = null)
    {
        string[] folders;
        try
        {
            var cache = XetPs.Cache.HubCache.FromEnvironment(environment ?? Environment.GetEnvironmentVariables());
            if (!Directory.Exists(cache.Root)) return Array.Empty<string>();
            folders = Directory.GetDirectories(cache.Root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.SecurityException)
        {
            return Array.Empty<string>();
        }
        return folders.Select(f => XetPs.Cache.CacheScan.RepoOf(Path.GetFileName(f))).Where(r => r is not null).Select(r => r!.ToString()).ToList();
    }
}
