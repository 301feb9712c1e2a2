using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace XetPs.Tests.Module;

/// <summary>Test-XetFile, and the plan Save-XetFile -WhatIf shows, in the hosted engine against the sample repo.</summary>
public sealed class TestXetFileTests : IClassFixture<SampleHub>, IDisposable
{
    private const string ListAll = "Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint";
    private readonly SampleHub _hub;
    private readonly ScratchFolder _destination = new();
    private readonly ModuleRunspace _ps = new();

    public TestXetFileTests(SampleHub hub) => _hub = hub;

    private Dictionary<string, object?> Variables => new()
    {
        ["endpoint"] = _hub.Endpoint,
        ["destination"] = _destination.Path,
    };

    public void Dispose()
    {
        _ps.Dispose();
        _destination.Dispose();
    }

    private static string State(System.Management.Automation.PSObject plan) => plan.Properties["State"].Value.ToString()!;

    [Fact]
    public void A_listing_piped_into_Test_XetFile_plans_every_file_without_a_transfer_or_a_write()
    {
        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint $endpoint", Variables);
        File.WriteAllText(_destination.Local("README.md"), "not the readme");
        _hub.Server.Log.Clear();

        var plans = _ps.Run(ListAll + " | Test-XetFile -Destination $destination", Variables);

        Assert.Equal(_hub.SampleFiles.Count, plans.Count);
        var byPath = plans.ToDictionary(p => p.Properties["Path"].Value.ToString()!);
        Assert.Equal("UpToDate", State(byPath["config.json"]));
        Assert.Equal(0L, byPath["config.json"].Properties["BytesNeeded"].Value);
        Assert.Equal("Changed", State(byPath["README.md"]));
        var model = _hub.SampleFiles.Single(f => f.Path == "model.safetensors");
        Assert.Equal("Missing", State(byPath["model.safetensors"]));
        Assert.Equal(model.Size, byPath["model.safetensors"].Properties["BytesNeeded"].Value);
        Assert.Equal(_destination.Local("model.safetensors"), byPath["model.safetensors"].Properties["LocalPath"].Value);
        // Piped entries carry the hashes: the listing's requests only, no resolve, no reconstruction, no transfer.
        Assert.DoesNotContain(_hub.Server.Log.Entries, e => e.Route is XetPs.Emulator.EmulatorRoute.Resolve or XetPs.Emulator.EmulatorRoute.Reconstruction
            or XetPs.Emulator.EmulatorRoute.Xorb);
        Assert.Equal(new[] { "README.md", "config.json" }, _destination.Files().Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void Plans_pipe_into_Save_XetFile_so_only_the_files_that_need_work_are_saved()
    {
        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint $endpoint", Variables);

        var saved = _ps.Run(ListAll + " | Test-XetFile -Destination $destination | Where-Object State -ne UpToDate | " +
                            "Save-XetFile -Destination $destination -PassThru", Variables);

        Assert.Equal(_hub.SampleFiles.Count - 1, saved.Count);
        Assert.Equal(_hub.SampleFiles.Count, _destination.Files().Length);
    }

    [Fact]
    public void Test_XetFile_plans_against_the_cache_and_offline()
    {
        var cache = Path.Combine(_destination.Path, "hub");
        var vars = new Dictionary<string, object?>(Variables) { ["cache"] = cache };
        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json -CacheDirectory $cache -Endpoint $endpoint", vars);
        _hub.Server.Log.Clear();

        var online = _ps.Run("Test-XetFile -Repo xetps/sample -Path config.json, README.md -CacheDirectory $cache -Endpoint $endpoint", vars);
        var offline = _ps.Run("Test-XetFile -Repo xetps/sample -Path config.json, README.md -CacheDirectory $cache -Offline", vars);

        Assert.Equal(new[] { "UpToDate", "Missing" }, online.Select(State));
        Assert.Equal(new[] { "UpToDate", "Missing" }, offline.Select(State));
        Assert.All(_hub.Server.Log.Entries, e => Assert.Equal(XetPs.Emulator.EmulatorRoute.Resolve, e.Route)); // online: resolves only
    }

    [Fact]
    public void A_file_that_cannot_be_planned_is_an_error_and_the_others_are_planned()
    {
        using var ps = _ps.Script("Test-XetFile -Repo xetps/sample -Path config.json, no/such.file -Destination $destination -Endpoint $endpoint", Variables);
        var plans = ps.Invoke();

        Assert.Equal("config.json", Assert.Single(plans).Properties["Path"].Value);
        var error = Assert.Single(ps.Streams.Error);
        Assert.Equal("XetFileNotFound,XetPs.Commands.TestXetFileCommand", error.FullyQualifiedErrorId);
        Assert.Equal("no/such.file", error.TargetObject);
    }

    [Fact]
    public void WhatIf_shows_each_files_plan_and_the_bytes_it_needs()
    {
        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint $endpoint", Variables);

        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json, model.safetensors -Destination $destination -Endpoint $endpoint -WhatIf", Variables);

        var whatIf = _ps.Host.Text.Split('\n').Where(l => l.StartsWith("What if:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, whatIf.Count);
        Assert.Contains(whatIf, l => l.Contains("config.json (up to date, nothing to download)", StringComparison.Ordinal));
        Assert.Contains(whatIf, l => l.Contains("model.safetensors (missing, ", StringComparison.Ordinal) && l.Contains(" to download)", StringComparison.Ordinal));
        Assert.False(File.Exists(_destination.Local("model.safetensors")));
    }
}
