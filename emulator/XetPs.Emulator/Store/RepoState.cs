using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using XetPs.Hub;

namespace XetPs.Emulator.Store;

/// <summary>
/// One repo's refs and commits on disk: <c>repos/{models|datasets|spaces}/org/name/repo.json</c> (private flag,
/// branch heads) and <c>commits/{id}.json</c> (full snapshots). Small JSON files; a commit file never changes once
/// written, and the refs file is replaced atomically.
/// </summary>
internal sealed class RepoState
{
    private readonly string _dir;
    private readonly Dictionary<string, RepoCommit> _commits = new(StringComparer.Ordinal);

    private RepoState(RepoId repo, string dir, bool isPrivate, Dictionary<string, string> branches)
    {
        Repo = repo;
        _dir = dir;
        IsPrivate = isPrivate;
        Branches = branches;
    }

    public RepoId Repo { get; }
    public bool IsPrivate { get; set; }
    public Dictionary<string, string> Branches { get; }

    public static string DirectoryOf(string storeDirectory, RepoId repo) =>
        Path.Combine(storeDirectory, "repos", repo.ApiPath.Replace('/', Path.DirectorySeparatorChar));

    public static RepoState Create(string storeDirectory, RepoId repo, bool isPrivate)
    {
        var state = new RepoState(repo, DirectoryOf(storeDirectory, repo), isPrivate, new Dictionary<string, string>(StringComparer.Ordinal));
        Directory.CreateDirectory(Path.Combine(state._dir, "commits"));
        state.SaveRefs();
        return state;
    }

    public static RepoState? Load(string storeDirectory, RepoId repo)
    {
        string dir = DirectoryOf(storeDirectory, repo);
        string refs = Path.Combine(dir, "repo.json");
        if (!File.Exists(refs)) return null;
        var dto = JsonSerializer.Deserialize<RefsDto>(File.ReadAllBytes(refs))
                  ?? throw new InvalidDataException($"'{refs}' is empty.");
        return new RepoState(repo, dir, dto.Private, new Dictionary<string, string>(dto.Branches, StringComparer.Ordinal));
    }

    public void SaveRefs() =>
        AtomicFile.Write(Path.Combine(_dir, "repo.json"), JsonSerializer.SerializeToUtf8Bytes(new RefsDto { Private = IsPrivate, Branches = Branches }));

    public void SaveCommit(RepoCommit commit)
    {
        string path = Path.Combine(_dir, "commits", commit.Id + ".json");
        if (!File.Exists(path))
        {
            var dto = new CommitDto
            {
                Id = commit.Id,
                Parent = commit.Parent,
                Title = commit.Title,
                Date = commit.Date,
                Files = commit.Files.Select(f => new FileDto { Path = f.Path, Size = f.Size, Sha256 = f.Sha256, Oid = f.GitOid, Xet = f.XetHash }).ToList(),
            };
            AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(dto));
        }
        _commits[commit.Id] = commit;
    }

    public RepoCommit? GetCommit(string id)
    {
        if (_commits.TryGetValue(id, out var c)) return c;
        if (id.Length != 40 || !id.All(Uri.IsHexDigit)) return null;
        string path = Path.Combine(_dir, "commits", id.ToLowerInvariant() + ".json");
        if (!File.Exists(path)) return null;
        var dto = JsonSerializer.Deserialize<CommitDto>(File.ReadAllBytes(path)) ?? throw new InvalidDataException($"'{path}' is empty.");
        c = new RepoCommit(dto.Id, dto.Parent, dto.Title, dto.Date,
            dto.Files.Select(f => new StoredFile(f.Path, f.Size, f.Sha256, f.Oid, f.Xet)).ToArray());
        _commits[c.Id] = c;
        return c;
    }

    /// <summary>A branch name or a full commit id.</summary>
    public RepoCommit? Resolve(string revision) =>
        Branches.TryGetValue(revision, out var id) ? GetCommit(id) : GetCommit(revision);

    private sealed class RefsDto
    {
        [JsonPropertyName("private")] public bool Private { get; set; }
        [JsonPropertyName("branches")] public Dictionary<string, string> Branches { get; set; } = new();
    }

    private sealed class CommitDto
    {
        [JsonPropertyName("id")] public string Id { get; set; } = "";
        [JsonPropertyName("parent")] public string? Parent { get; set; }
        [JsonPropertyName("title")] public string Title { get; set; } = "";
        [JsonPropertyName("date")] public DateTimeOffset Date { get; set; }
        [JsonPropertyName("files")] public List<FileDto> Files { get; set; } = new();
    }

    private sealed class FileDto
    {
        [JsonPropertyName("path")] public string Path { get; set; } = "";
        [JsonPropertyName("size")] public long Size { get; set; }
        [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";
        [JsonPropertyName("oid")] public string Oid { get; set; } = "";
        [JsonPropertyName("xet")] public string? Xet { get; set; }
    }
}
