using System;
using System.Linq;

namespace XetPs.Hub;

/// <summary>
/// A Hub repository: its kind and its "org/name" (or a legacy name without a namespace, such as "gpt2", which the Hub
/// redirects to the repository's current id). Knows the two URL shapes the Hub uses for it:
/// <c>/api/{models|datasets|spaces}/org/name/...</c> and <c>/{"" | datasets/ | spaces/}org/name/resolve/...</c>.
/// Invariant: <see cref="Name"/> is one or two non-empty segments of safe characters, so it can be placed in a URL
/// path unescaped and never climbs out of it.
/// </summary>
public sealed record RepoId
{
    public RepoId(RepoType type, string name)
    {
        if (!IsValidName(name))
            throw new ArgumentException(
                $"'{name}' is not a repository name: expected 'org/name' or 'name' (letters, digits, '-', '_', '.').", nameof(name));
        Type = type;
        Name = name;
    }

    public RepoType Type { get; }

    /// <summary>"org/name", or a legacy "name".</summary>
    public string Name { get; }

    /// <summary>The path under <c>/api/</c>: "models/org/name", "datasets/org/name" or "spaces/org/name".</summary>
    public string ApiPath => Type switch
    {
        RepoType.Dataset => "datasets/" + Name,
        RepoType.Space => "spaces/" + Name,
        _ => "models/" + Name,
    };

    /// <summary>The prefix of resolve URLs: "org/name", "datasets/org/name" or "spaces/org/name".</summary>
    public string ResolvePrefix => Type switch
    {
        RepoType.Dataset => "datasets/" + Name,
        RepoType.Space => "spaces/" + Name,
        _ => Name,
    };

    /// <summary>
    /// Parses "org/name", "models/org/name", "datasets/org/name" or "spaces/org/name", and the legacy forms without a
    /// namespace: "gpt2", "datasets/squad". "models", "datasets" and "spaces" are reserved on the Hub (no user or
    /// organization has those names), so a first segment spelling one is always the kind. An explicit
    /// <paramref name="type"/> must agree with a prefix when both are given.
    /// </summary>
    public static RepoId Parse(string text, RepoType? type = null)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new ArgumentException("A repository name is required, e.g. 'org/name'.", nameof(text));
        var parts = text.Trim().Trim('/').Split('/');
        var prefixType = parts.Length > 1 ? KindOf(parts[0]) : null;
        if (parts.Length == 3 && prefixType is null)
            throw new ArgumentException(
                $"'{text}' is not a repository name: a three-part name starts with models/, datasets/ or spaces/.", nameof(text));
        if (prefixType is not null) parts = parts.Skip(1).ToArray();
        if (parts.Length is < 1 or > 2 || (parts.Length == 1 && KindOf(parts[0]) is not null))
            throw new ArgumentException($"'{text}' is not a repository name: expected 'org/name'.", nameof(text));
        if (type is not null && prefixType is not null && type != prefixType)
            throw new ArgumentException(
                $"'{text}' names a {prefixType.Value.ToString().ToLowerInvariant()} repository but the repository type given is {type.Value.ToString().ToLowerInvariant()}.",
                nameof(type));
        var name = string.Join("/", parts);
        if (!IsValidName(name))
            throw new ArgumentException(
                $"'{text}' is not a repository name: expected 'org/name' (letters, digits, '-', '_', '.').", nameof(text));
        return new RepoId(prefixType ?? type ?? RepoType.Model, name);
    }

    /// <summary>The kind a reserved first segment names ("models", "datasets", "spaces"), else null.</summary>
    public static RepoType? KindOf(string segment) => segment switch
    {
        "models" => RepoType.Model,
        "datasets" => RepoType.Dataset,
        "spaces" => RepoType.Space,
        _ => null,
    };

    public override string ToString() => Type == RepoType.Model ? Name : ApiPath;

    private static bool IsValidName(string? name)
    {
        if (name is null) return false;
        var slash = name.IndexOf('/');
        if (slash < 0) return IsValidSegment(name); // a legacy name without a namespace
        if (slash == 0 || slash == name.Length - 1 || name.IndexOf('/', slash + 1) >= 0) return false;
        return IsValidSegment(name.Substring(0, slash)) && IsValidSegment(name.Substring(slash + 1));
    }

    private static bool IsValidSegment(string segment)
    {
        if (segment.Length == 0 || segment.Length > 96 || segment == "." || segment == "..") return false;
        foreach (var c in segment)
        {
            var ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
            if (!ok) return false;
        }
        return true;
    }
}
