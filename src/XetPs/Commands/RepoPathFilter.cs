using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace XetPs.Commands;

/// <summary>
/// -Include / -Exclude on repo paths. A pattern with a '/' is matched against the whole repo path
/// ("sub/*.json"); a pattern without one is matched against the whole path or the file name, so "*.gguf" and
/// "model-*.gguf" both find "quant/model-q4.gguf". Case-insensitive, like file-system wildcards on Windows.
/// Invariant: a path is kept when it matches some include (or there are none) and no exclude.
/// </summary>
internal sealed class RepoPathFilter
{
    private const WildcardOptions Options = WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant;
    private readonly IReadOnlyList<(WildcardPattern Pattern, bool WholePathOnly)> _include;
    private readonly IReadOnlyList<(WildcardPattern Pattern, bool WholePathOnly)> _exclude;

    public RepoPathFilter(IEnumerable<string>? include, IEnumerable<string>? exclude)
    {
        _include = Compile(include);
        _exclude = Compile(exclude);
    }

    public bool IsEmpty => _include.Count == 0 && _exclude.Count == 0;

    public bool Keeps(string repoPath)
    {
        var name = repoPath.Substring(repoPath.LastIndexOf('/') + 1);
        if (_include.Count > 0 && !_include.Any(p => Matches(p, repoPath, name))) return false;
        return !_exclude.Any(p => Matches(p, repoPath, name));
    }

    private static bool Matches((WildcardPattern Pattern, bool WholePathOnly) p, string path, string name) =>
        p.Pattern.IsMatch(path) || (!p.WholePathOnly && p.Pattern.IsMatch(name));

    private static IReadOnlyList<(WildcardPattern, bool)> Compile(IEnumerable<string>? patterns) =>
        (patterns ?? Array.Empty<string>())
            .Where(p => !string.IsNullOrEmpty(p))
            .Select(p => (new WildcardPattern(p.Replace('\\', '/').TrimStart('/'), Options), p.IndexOfAny(['/', '\\']) >= 0))
            .ToList();
}
