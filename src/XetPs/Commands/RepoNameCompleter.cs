using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace XetPs.Commands;

/// <summary>
/// Tab completion for -Repo: the repository names this process has already listed or downloaded from.
/// Invariant: never calls the network (completion must be instant and work offline); names enter the history only
/// after a cmdlet used them successfully, so a typo is never offered back.
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
        return Seen.Keys
            .Where(name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(name => name, StringComparer.OrdinalIgnoreCase)
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name))
            .ToList();
    }
}
