using System;
using System.Collections;
using System.IO;
using XetPs.Cache;
using XetPs.Cas;
using XetPs.Hub;

namespace XetPs.Tests.Cache;

/// <summary>The Hugging Face cache's names and places, as huggingface_hub's file_download.py and constants.py define them.</summary>
public sealed class HubCacheTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xetps-hubcache-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData("org/name", RepoType.Model, "models--org--name")]
    [InlineData("org/name", RepoType.Dataset, "datasets--org--name")]
    [InlineData("org/name", RepoType.Space, "spaces--org--name")]
    [InlineData("gpt2", RepoType.Model, "models--gpt2")]
    public void Repo_folders_are_named_as_huggingface_hub_names_them(string name, RepoType type, string folder)
    {
        // repo_folder_name: f"{repo_type}s" and the repo id's parts joined by "--".
        Assert.Equal(folder, HubCache.FolderName(new RepoId(type, name)));
    }

    [Fact]
    public void The_cache_folder_follows_HF_HUB_CACHE_then_HF_HOME_then_XDG_CACHE_HOME_then_home()
    {
        // constants.py: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, HF_HOME defaulting to
        // $XDG_CACHE_HOME/huggingface, XDG_CACHE_HOME to ~/.cache.
        var home = Path.Combine(_root, "home");
        Assert.Equal(Path.Combine(_root, "a"), HubCache.FromEnvironment(Env(("HF_HUB_CACHE", Path.Combine(_root, "a")), ("HF_HOME", "x"), ("HOME", home))).Root);
        Assert.Equal(Path.Combine(_root, "b"), HubCache.FromEnvironment(Env(("HUGGINGFACE_HUB_CACHE", Path.Combine(_root, "b")), ("HOME", home))).Root);
        Assert.Equal(Path.Combine(_root, "c", "hub"), HubCache.FromEnvironment(Env(("HF_HOME", Path.Combine(_root, "c")), ("XDG_CACHE_HOME", "y"), ("HOME", home))).Root);
        Assert.Equal(Path.Combine(_root, "d", "huggingface", "hub"), HubCache.FromEnvironment(Env(("XDG_CACHE_HOME", Path.Combine(_root, "d")), ("HOME", home))).Root);
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), HubCache.FromEnvironment(Env(("HOME", home), ("USERPROFILE", home))).Root);
        Assert.Equal(Path.Combine(home, "hf", "hub"), HubCache.FromEnvironment(Env(("HF_HOME", "~/hf"), ("HOME", home), ("USERPROFILE", home))).Root);
    }

    [Fact]
    public void HF_HUB_DISABLE_SYMLINKS_keeps_the_files_themselves_in_snapshots()
    {
        Assert.False(HubCache.FromEnvironment(Env(("HF_HUB_CACHE", _root), ("HF_HUB_DISABLE_SYMLINKS", "1"))).Symlinks);
    }

    [Fact]
    public void A_ref_holds_the_bare_commit_and_a_pr_ref_nests_under_refs_refs()
    {
        // huggingface_hub writes the commit with no newline (huggingface.js groups refs by the exact text), and
        // refs/pr/1 at refs/refs/pr/1 (its scan walks refs/** recursively).
        var cache = new HubCache(_root);
        var repo = new RepoId(RepoType.Model, "org/name");
        var commit = new string('a', 40);
        cache.WriteRef(repo, null, commit);
        cache.WriteRef(repo, "refs/pr/1", commit);
        cache.WriteRef(repo, commit, commit); // a commit revision needs no ref

        var refs = Path.Combine(_root, "models--org--name", "refs");
        Assert.Equal(commit, File.ReadAllText(Path.Combine(refs, "main")));
        Assert.Equal(commit, File.ReadAllText(Path.Combine(refs, "refs", "pr", "1")));
        Assert.Equal(2, Directory.GetFiles(refs, "*", SearchOption.AllDirectories).Length);
        Assert.Equal(commit, cache.ResolveRevision(repo, "refs/pr/1"));
        Assert.Null(cache.ResolveRevision(repo, "dev"));
    }

    [Theory]
    [InlineData("../../../etc/passwd", null)]
    [InlineData(null, "../x")]
    [InlineData(null, "ABCDEF")]
    [InlineData(null, null)]
    public void An_etag_that_cannot_name_a_blob_is_a_protocol_error(string? sha256, string? gitOid)
    {
        // A hostile or broken Hub must not steer a blob outside blobs/ (huggingface_hub would use the value as is).
        var entry = new RepoEntry(new RepoId(RepoType.Model, "org/name"), new string('a', 40), "f.bin", 1, null, sha256, false, gitOid);
        Assert.Throws<XetProtocolException>(() => HubCache.EtagOf(entry));
    }

    [Fact]
    public void A_revision_that_escapes_refs_is_refused()
    {
        var cache = new HubCache(_root);
        Assert.Throws<ArgumentException>(() => cache.WriteRef(new RepoId(RepoType.Model, "org/name"), "../../x", new string('a', 40)));
    }

    private static IDictionary Env(params (string Name, string Value)[] values)
    {
        var env = new Hashtable();
        foreach (var (name, value) in values) env[name] = value;
        return env;
    }
}
