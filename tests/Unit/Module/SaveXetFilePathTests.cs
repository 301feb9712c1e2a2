using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Store;
using XetPs.Hub;

namespace XetPs.Tests.Module;

/// <summary>
/// -Path and -LiteralPath as PowerShell users type them: wildcards expanded against the repository's listing,
/// literal paths taken as written, and tab completion from what the session has listed.
/// </summary>
public sealed class SaveXetFilePathTests : IClassFixture<SampleHub>, IDisposable
{
    // Two files a wildcard tells apart only by its brackets: "weights[1].bin" as a pattern matches "weights1.bin".
    private static readonly RepoId Brackets = new(RepoType.Model, "xetps/brackets");
    private readonly SampleHub _hub;
    private readonly ScratchFolder _destination = new();
    private readonly ModuleRunspace _ps = new();

    public SaveXetFilePathTests(SampleHub hub) => _hub = hub;

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

    private Task CommitBracketsAsync() => _hub.Server.Store.CommitAsync(Brackets, "main",
        new[] { RepoFile.FromText("weights[1].bin", "bracketed\n"), RepoFile.FromText("weights1.bin", "plain\n") });

    /// <summary>The files saved, as repo-relative paths: the engine's records under any .cache/xetps left out.</summary>
    private string[] Saved() => _destination.Files()
        .Select(f => f.Substring(_destination.Path.Length + 1).Replace('\\', '/'))
        .Where(f => !f.Contains(".cache/", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal).ToArray();

    [Fact]
    public void Path_wildcards_select_files_from_one_listing_of_the_repo()
    {
        _hub.Server.Log.Clear();

        _ps.Run("Save-XetFile -Repo xetps/sample -Path *.json, data/*.csv, DATA/*.bin -Destination $destination -Endpoint $endpoint", Variables);

        Assert.Equal(new[] { "config.json", "data/labels.csv", "data/train-00000.bin" }, Saved());
        // Three patterns, one listing (the sample repo fits one tree page); the listed entries pin the commit, so no
        // file needs a resolve call of its own.
        Assert.Single(_hub.Server.Log.For(EmulatorRoute.Tree));
        Assert.DoesNotContain(_hub.Server.Log.For(EmulatorRoute.Resolve), e => e.Method == "HEAD");
    }

    [Fact]
    public void A_pattern_that_matches_no_file_is_XetFileNotFound()
    {
        using var ps = _ps.Script("$ErrorActionPreference = 'Stop'; " +
            "Save-XetFile -Repo xetps/sample -Path *.gguf -Destination $destination -Endpoint $endpoint", Variables);

        var record = ((IContainsErrorRecord)Assert.ThrowsAny<RuntimeException>(() => ps.Invoke())).ErrorRecord;

        Assert.Equal("XetFileNotFound,XetPs.Commands.SaveXetFileCommand", record.FullyQualifiedErrorId);
        Assert.IsType<XetFileNotFoundException>(record.Exception);
        Assert.Equal("No file of xetps/sample matches '*.gguf'.", record.Exception.Message);
        Assert.Equal("*.gguf", record.TargetObject);
        Assert.Empty(_destination.Files());
    }

    [Fact]
    public async Task LiteralPath_takes_wildcard_characters_as_written_and_lists_nothing()
    {
        await CommitBracketsAsync();
        _hub.Server.Log.Clear();

        _ps.Run("Save-XetFile -Repo xetps/brackets -LiteralPath 'weights[1].bin' -Destination $destination -Endpoint $endpoint", Variables);

        Assert.Equal(new[] { "weights[1].bin" }, Saved());
        Assert.Empty(_hub.Server.Log.For(EmulatorRoute.Tree));
    }

    [Fact]
    public async Task A_Path_that_is_exactly_a_file_is_that_file_and_a_range_is_a_pattern()
    {
        await CommitBracketsAsync();

        _ps.Run("Save-XetFile -Repo xetps/brackets -Path 'weights[1].bin' -Destination ([System.IO.Path]::Combine($destination, 'exact')) -Endpoint $endpoint; " +
                "Save-XetFile -Repo xetps/brackets -Path 'weights[0-9].bin' -Destination ([System.IO.Path]::Combine($destination, 'range')) -Endpoint $endpoint", Variables);

        Assert.Equal(new[] { "exact/weights[1].bin", "range/weights1.bin" }, Saved());
    }

    [Fact]
    public async Task Piped_entries_are_taken_as_written_with_no_listing_of_their_own()
    {
        await CommitBracketsAsync();
        _hub.Server.Log.Clear();

        _ps.Run("Get-XetFileList -Repo xetps/brackets -Endpoint $endpoint | Save-XetFile -Destination $destination", Variables);

        Assert.Equal(new[] { "weights1.bin", "weights[1].bin" }, Saved());
        Assert.Single(_hub.Server.Log.For(EmulatorRoute.Tree)); // Get-XetFileList's own
    }

    [Fact]
    public void Path_completion_offers_the_listed_paths_of_the_bound_repo_and_makes_no_request()
    {
        _ps.Run("Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint | Out-Null", Variables);
        _hub.Server.Log.Clear();

        var save = Complete("Save-XetFile -Repo xetps/sample -Path data/");
        var list = Complete("Get-XetFileList -Repo xetps/sample -Path d");
        var otherRepo = Complete("Save-XetFile -Repo xetps/many-files -Path data/");

        Assert.Equal(new[] { "data/corpus.txt", "data/labels.csv", "data/train-00000.bin" }, save);
        Assert.Equal(new[] { "data", "data/corpus.txt", "data/labels.csv", "data/train-00000.bin" }, list); // folders too
        Assert.Empty(otherRepo);
        Assert.Empty(_hub.Server.Log.Entries);
    }

    private string[] Complete(string line) =>
        _ps.Run("(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText",
            new Dictionary<string, object?> { ["line"] = line }).Select(o => o.ToString()).ToArray();
}
