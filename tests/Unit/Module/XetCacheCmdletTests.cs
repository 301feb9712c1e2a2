using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Emulator.Store;
using XetPs.Hub;

namespace XetPs.Tests.Module;

/// <summary>Get-XetCache and Remove-XetCache as a user drives them, in the hosted engine, on a cache Save-XetFile filled.</summary>
public sealed class XetCacheCmdletTests : IClassFixture<SampleHub>, IDisposable
{
    private readonly SampleHub _hub;
    private readonly ScratchFolder _cache = new();
    private readonly ModuleRunspace _ps = new();

    public XetCacheCmdletTests(SampleHub hub) => _hub = hub;

    private Dictionary<string, object?> Variables => new()
    {
        ["endpoint"] = _hub.Endpoint,
        ["cache"] = _cache.Path,
    };

    private string SampleFolder => Path.Combine(_cache.Path, "models--xetps--sample");

    public void Dispose()
    {
        _ps.Dispose();
        _cache.Dispose();
    }

    private void SaveSample() =>
        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json, README.md -CacheDirectory $cache -Endpoint $endpoint", Variables);

    [Fact]
    public void Get_XetCache_reports_each_repository_with_its_revisions_refs_files_and_size()
    {
        SaveSample();
        var sizes = _hub.SampleFiles.Where(f => f.Path is "config.json" or "README.md").Sum(f => f.Size);

        var cached = Assert.Single(_ps.Run("Get-XetCache -CacheDirectory $cache", Variables));

        Assert.Equal("XetPs.XetCachedRepo", cached.BaseObject.GetType().FullName);
        Assert.Equal("xetps/sample", cached.Properties["Repo"].Value);
        Assert.Equal("Model", cached.Properties["RepoType"].Value.ToString());
        Assert.Equal(2, cached.Properties["FileCount"].Value);
        Assert.Equal(sizes, cached.Properties["Size"].Value);
        Assert.Equal(new[] { "main" }, (string[])cached.Properties["Refs"].Value);
        var revision = Assert.Single(_ps.Run("(Get-XetCache -CacheDirectory $cache).Revisions", Variables));
        Assert.Equal(_hub.Server.Store.Resolve(XetPs.Emulator.Scenario.SampleRepo.Id, "main")!.Id, revision.Properties["Commit"].Value);
        Assert.Equal(new[] { "README.md", "config.json" },
            _ps.Run("(Get-XetCache -CacheDirectory $cache).Revisions.Files.Path", Variables).Select(o => o.ToString()));
    }

    [Fact]
    public void Get_XetCache_filters_by_repository_wildcard_and_type()
    {
        SaveSample();

        Assert.Single(_ps.Run("Get-XetCache *sample -CacheDirectory $cache", Variables));
        Assert.Empty(_ps.Run("Get-XetCache other/* -CacheDirectory $cache", Variables));
        Assert.Empty(_ps.Run("Get-XetCache -RepoType Dataset -CacheDirectory $cache", Variables));
    }

    [Fact]
    public void A_piped_repository_is_removed_from_the_cache_it_was_found_in_and_WhatIf_removes_nothing()
    {
        SaveSample();

        _ps.Run("Get-XetCache -CacheDirectory $cache | Remove-XetCache -WhatIf", Variables);
        Assert.True(Directory.Exists(SampleFolder));
        Assert.Contains("What if:", _ps.Host.Text, StringComparison.Ordinal);

        _ps.Run("Get-XetCache -CacheDirectory $cache | Remove-XetCache", Variables);
        Assert.False(Directory.Exists(SampleFolder));
        Assert.Empty(_ps.Run("Get-XetCache -CacheDirectory $cache", Variables));
    }

    [Fact]
    public async Task Unreferenced_removes_the_revisions_no_branch_points_to_and_keeps_shared_blobs()
    {
        // A repo of this test's own, moved on by one commit: its first snapshot is no longer named by main.
        var repo = new RepoId(RepoType.Model, "xetps/cache-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        var first = await _hub.Server.Store.CommitAsync(repo, "main", new[] { RepoFile.FromText("a.txt", "a"), RepoFile.FromText("b.txt", "b1") });
        var vars = new Dictionary<string, object?>(Variables) { ["repo"] = repo.Name };
        _ps.Run("Save-XetFile -Repo $repo -Path a.txt, b.txt -CacheDirectory $cache -Endpoint $endpoint", vars);
        var second = await _hub.Server.Store.CommitAsync(repo, "main", new[] { RepoFile.FromText("b.txt", "b2") });
        _ps.Run("Save-XetFile -Repo $repo -Path a.txt, b.txt -CacheDirectory $cache -Endpoint $endpoint", vars);

        _ps.Run("Remove-XetCache -Unreferenced -CacheDirectory $cache", vars);

        var commits = _ps.Run("(Get-XetCache $repo -CacheDirectory $cache).Revisions.Commit", vars).Select(o => o.ToString());
        Assert.Equal(second.Id, Assert.Single(commits));
        Assert.NotEqual(first.Id, second.Id);
        var snapshot = Path.Combine(_cache.Path, "models--" + repo.Name.Replace("/", "--"), "snapshots", second.Id);
        Assert.Equal("a", File.ReadAllText(Path.Combine(snapshot, "a.txt")));
        Assert.Equal("b2", File.ReadAllText(Path.Combine(snapshot, "b.txt")));
    }

    [Fact]
    public void Incomplete_lists_partial_blobs_and_removes_only_those_older_than_OlderThan()
    {
        SaveSample();
        var old = Path.Combine(SampleFolder, "blobs", new string('a', 64) + ".incomplete");
        var fresh = Path.Combine(SampleFolder, "blobs", new string('b', 64) + ".incomplete");
        File.WriteAllBytes(old, new byte[100]);
        File.WriteAllBytes(fresh, new byte[200]);
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddDays(-2));

        var listed = _ps.Run("Get-XetCache -Incomplete -CacheDirectory $cache", Variables);
        _ps.Run("Remove-XetCache -Incomplete -CacheDirectory $cache", Variables);

        Assert.Equal(new[] { old, fresh }.OrderBy(p => p), listed.Select(f => f.Properties["Path"].Value.ToString()).OrderBy(p => p));
        Assert.True((TimeSpan)listed.Single(f => (string)f.Properties["Path"].Value == old).Properties["Age"].Value > TimeSpan.FromDays(1));
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(fresh));
    }

    [Fact]
    public void Removing_what_the_cache_does_not_hold_is_an_XetNotInCache_error()
    {
        SaveSample();
        using var ps = _ps.Script("Remove-XetCache xetps/absent -CacheDirectory $cache; Remove-XetCache xetps/sample -Revision dev -CacheDirectory $cache", Variables);
        ps.Invoke();

        Assert.Equal(2, ps.Streams.Error.Count);
        Assert.All(ps.Streams.Error, e => Assert.Equal("XetNotInCache,XetPs.Commands.RemoveXetCacheCommand", e.FullyQualifiedErrorId));
        Assert.True(Directory.Exists(SampleFolder));
    }
}
