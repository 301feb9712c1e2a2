using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using XetPs.Emulator.Scenario;

namespace XetPs.Tests.Module;

/// <summary>Save-XetFile -Cache / -CacheDirectory as a user drives it, in the hosted engine, against the sample repo.</summary>
public sealed class SaveXetFileCacheTests : IClassFixture<SampleHub>, IDisposable
{
    private const string ListAll = "Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint";
    private readonly SampleHub _hub;
    private readonly ScratchFolder _cache = new();
    private readonly ModuleRunspace _ps = new();

    public SaveXetFileCacheTests(SampleHub hub) => _hub = hub;

    private Dictionary<string, object?> Variables => new()
    {
        ["endpoint"] = _hub.Endpoint,
        ["cache"] = _cache.Path,
    };

    private string Commit => _hub.Server.Store.Resolve(SampleRepo.Id, "main")!.Id;

    public void Dispose()
    {
        _ps.Dispose();
        _cache.Dispose();
    }

    [Fact]
    public void CacheDirectory_saves_the_piped_listing_into_the_cache_and_PassThru_gives_the_snapshot_paths()
    {
        var output = _ps.Run(ListAll + " | Save-XetFile -CacheDirectory $cache -PassThru", Variables);

        // PassThru gives what a library opens: snapshots/<commit>/<path>, which reads as the file itself.
        var snapshot = Path.Combine(_cache.Path, "models--xetps--sample", "snapshots", Commit);
        Assert.Equal(_hub.SampleFiles.Count, output.Count);
        foreach (var file in _hub.SampleFiles)
        {
            var local = Path.Combine(snapshot, file.Path.Replace('/', Path.DirectorySeparatorChar));
            var item = Assert.Single(output, o => ((FileInfo)o.BaseObject).FullName == local);
            Assert.Equal(file.Sha256, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(local))).ToLowerInvariant());
            Assert.NotNull(((FileInfo)item.BaseObject).LinkTarget);
        }
        // The listing pins the commit, and a commit needs no ref (huggingface_hub writes refs for branch and tag names only).
        Assert.False(Directory.Exists(Path.Combine(_cache.Path, "models--xetps--sample", "refs")));
    }

    [Fact]
    public void A_save_by_branch_records_the_branch_in_refs()
    {
        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json -CacheDirectory $cache -Endpoint $endpoint", Variables);

        Assert.Equal(Commit, File.ReadAllText(Path.Combine(_cache.Path, "models--xetps--sample", "refs", "main")));
        Assert.True(File.Exists(Path.Combine(_cache.Path, "models--xetps--sample", "snapshots", Commit, "config.json")));
    }

    [Fact]
    public void A_second_save_into_the_cache_finds_every_file_up_to_date_without_a_transfer()
    {
        _ps.Run(ListAll + " | Save-XetFile -CacheDirectory $cache", Variables);
        _hub.Server.Log.Clear();

        using var ps = _ps.Script("Save-XetFile -Repo xetps/sample -Path config.json, model.safetensors -Cache -CacheDirectory $cache -Endpoint $endpoint -Verbose", Variables);
        ps.Invoke();

        Assert.False(ps.HadErrors);
        Assert.Empty(_hub.Server.Log.For(XetPs.Emulator.EmulatorRoute.Xorb));
        Assert.Equal(2, ps.Streams.Verbose.Count(v => v.Message.StartsWith("Skipped ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Cache_and_Destination_together_are_a_parameter_error_before_any_request()
    {
        _hub.Server.Log.Clear();
        using var ps = _ps.Script("Save-XetFile -Repo xetps/sample -Path config.json -Cache -Destination $cache -Endpoint $endpoint", Variables);

        ps.Invoke();

        var error = Assert.Single(ps.Streams.Error);
        Assert.Equal("AmbiguousParameterSet,XetPs.Commands.SaveXetFileCommand", error.FullyQualifiedErrorId);
        Assert.Empty(_hub.Server.Log.Entries);
    }

    [Fact]
    public void WhatIf_into_the_cache_names_each_file_and_writes_nothing()
    {
        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json, README.md -CacheDirectory $cache -Endpoint $endpoint -WhatIf", Variables);

        Assert.Empty(Directory.GetFileSystemEntries(_cache.Path));
        var whatIf = _ps.Host.Text.Split('\n').Where(l => l.StartsWith("What if:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, whatIf.Count);
        Assert.Contains(whatIf, l => l.Contains("xetps/sample@main:config.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Offline_each_missing_file_is_one_XetOffline_error_and_the_others_are_answered()
    {
        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json -CacheDirectory $cache -Endpoint $endpoint", Variables);
        _hub.Server.Log.Clear();

        using var ps = _ps.Script("Save-XetFile -Repo xetps/sample -Path config.json, README.md, model.safetensors -CacheDirectory $cache " +
                                  "-Endpoint $endpoint -Offline -PassThru", Variables);
        var output = ps.Invoke();

        Assert.EndsWith("config.json", Assert.Single(output).Properties["FullName"].Value.ToString());
        Assert.Equal(new[] { "README.md", "model.safetensors" }, ps.Streams.Error.Select(e => e.TargetObject.ToString()).OrderBy(t => t, StringComparer.Ordinal));
        Assert.All(ps.Streams.Error, e => Assert.Equal("XetOffline,XetPs.Commands.SaveXetFileCommand", e.FullyQualifiedErrorId));
        Assert.Empty(_hub.Server.Log.Entries);
    }

    [Fact]
    public void Offline_Get_XetFileList_lists_the_cached_snapshot_and_pipes_into_an_offline_save()
    {
        _ps.Run("Save-XetFile -Repo xetps/sample -Path (" + ListAll + ").Path -CacheDirectory $cache -Endpoint $endpoint", Variables);
        _hub.Server.Log.Clear();

        var listed = _ps.Run("Get-XetFileList -Repo xetps/sample -Recurse -Offline -CacheDirectory $cache", Variables);
        var saved = _ps.Run("Get-XetFileList -Repo xetps/sample -Recurse -Offline -CacheDirectory $cache | " +
                            "Save-XetFile -CacheDirectory $cache -Offline -PassThru", Variables);

        Assert.Equal(_hub.SampleFiles.Select(f => f.Path).OrderBy(p => p, StringComparer.Ordinal),
            listed.Select(o => o.Properties["Path"].Value.ToString()));
        Assert.All(listed, o => Assert.Equal(Commit, o.Properties["Revision"].Value));
        Assert.Equal(_hub.SampleFiles.Count, saved.Count);
        Assert.Empty(_hub.Server.Log.Entries);
    }
}
