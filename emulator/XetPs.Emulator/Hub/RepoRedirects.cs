using System;
using System.Collections.Concurrent;
using System.Linq;
using XetPs.Hub;

namespace XetPs.Emulator.Hub;

/// <summary>
/// Where the Hub sends a repository id that is not the repository's current one: a renamed repository, a legacy id
/// without a namespace ("gpt2" for "openai-community/gpt2"), an id in the wrong case. Like the Hub, the answer is a
/// 307 whose Location is a path (same origin), for the API routes and for resolve. A private target is not revealed:
/// without an accepted token the old id is simply not found.
/// </summary>
internal sealed class RepoRedirects
{
    private readonly ConcurrentDictionary<(RepoType Type, string Name), RepoId> _aliases = new();
    private readonly EmulatorServer _server;

    public RepoRedirects(EmulatorServer server) => _server = server;

    /// <summary>Makes <paramref name="from"/> (matched in any case) redirect to <paramref name="to"/>.</summary>
    public void Add(RepoId from, RepoId to) => _aliases[(from.Type, from.Name.ToLowerInvariant())] = to;

    public void Clear() => _aliases.Clear();

    /// <summary>
    /// The route and the Location of a redirect for a Hub request (<paramref name="s"/>: its unescaped path segments),
    /// or null when the request names an existing repository, or nothing the Hub redirects.
    /// </summary>
    public (EmulatorRoute Route, string Location)? Find(string[] s, string query, bool authenticated)
    {
        if (s.Length >= 3 && s[0] == "api" && RepoId.KindOf(s[1]) is RepoType apiType)
        {
            // A two-segment id first ("org/name/tree/..."); a legacy one-segment id ("gpt2/tree/...") second.
            if (s.Length >= 4 && Target(apiType, s[2] + "/" + s[3], authenticated) is RepoId to2)
                return (ApiRoute(s, 4), "/api/" + to2.ApiPath + Rest(s, 4) + query);
            if (Target(apiType, s[2], authenticated) is RepoId to1)
                return (ApiRoute(s, 3), "/api/" + to1.ApiPath + Rest(s, 3) + query);
            return null;
        }
        int r = Array.IndexOf(s, "resolve");
        if (r < 1 || r > 3 || s.Length < r + 3) return null;
        var kind = RepoId.KindOf(s[0]);
        (RepoType Type, string Name)? asked = (r, kind) switch
        {
            (1, null) => (RepoType.Model, s[0]),
            (2, RepoType k) => (k, s[1]),
            (2, null) => (RepoType.Model, s[0] + "/" + s[1]),
            (3, RepoType k) => (k, s[1] + "/" + s[2]),
            _ => null,
        };
        if (asked is null || Target(asked.Value.Type, asked.Value.Name, authenticated) is not RepoId to) return null;
        return (EmulatorRoute.Resolve, "/" + to.ResolvePrefix + Rest(s, r) + query);
    }

    private RepoId? Target(RepoType type, string name, bool authenticated)
    {
        RepoId asked;
        try { asked = new RepoId(type, name); }
        catch (ArgumentException) { return null; }
        if (_server.Store.Exists(asked)) return null;
        var to = _aliases.TryGetValue((type, name.ToLowerInvariant()), out var alias) ? alias
            : _server.Store.Repos.FirstOrDefault(r => r.Type == type && r.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (to is null || !_server.Store.Exists(to) || (_server.Store.IsPrivate(to) && !authenticated)) return null;
        return to;
    }

    private static EmulatorRoute ApiRoute(string[] s, int action) => s.Length > action ? s[action] switch
    {
        "tree" or "paths-info" => EmulatorRoute.Tree,
        "xet-read-token" => EmulatorRoute.Token,
        _ => EmulatorRoute.Other,
    } : EmulatorRoute.Other;

    private static string Rest(string[] s, int from) =>
        string.Concat(s.Skip(from).Select(segment => "/" + Uri.EscapeDataString(segment)));
}
