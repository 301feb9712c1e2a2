using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using XetPs.Emulator.Store;
using XetPs.Hub;

namespace XetPs.Tests.Module;

/// <summary>Get-XetFileList in the hosted engine against the emulator's sample repo.</summary>
public sealed class GetXetFileListTests : IClassFixture<SampleHub>, System.IDisposable
{
    private readonly SampleHub _hub;
    private readonly ModuleRunspace _ps = new();

    public GetXetFileListTests(SampleHub hub) => _hub = hub;

    private Dictionary<string, object?> Variables => new() { ["endpoint"] = _hub.Endpoint };

    public void Dispose() => _ps.Dispose();

    [Fact]
    public void Recurse_lists_every_file_with_the_resolved_commit_and_its_size()
    {
        var commit = _hub.Server.Store.Resolve(XetPs.Emulator.Scenario.SampleRepo.Id, "main")!.Id;

        var entries = _ps.Run("Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint", Variables);

        Assert.All(entries, e => Assert.Equal("XetPs.XetFileEntry", e.TypeNames[0]));
        var listed = entries.Select(e => (Path: (string)e.Properties["Path"].Value, Size: (long)e.Properties["Size"].Value,
            Revision: (string)e.Properties["Revision"].Value, IsXet: (bool)e.Properties["IsXet"].Value)).ToList();
        Assert.Equal(_hub.SampleFiles.Select(f => (f.Path, f.Size)).OrderBy(f => f.Path),
            listed.Select(e => (e.Path, e.Size)).OrderBy(e => e.Path));
        Assert.All(listed, e => Assert.Equal(commit, e.Revision));
        Assert.All(listed, e => Assert.Equal(_hub.SampleFiles.Single(f => f.Path == e.Path).IsXet, e.IsXet));
    }

    [Fact]
    public void Include_and_Exclude_filter_on_the_file_name_and_the_repo_path()
    {
        var paths = _ps.Run(
            "Get-XetFileList -Repo xetps/sample -Recurse -Include *.txt, *.csv -Exclude data/labels.* -Endpoint $endpoint | ForEach-Object Path",
            Variables).Select(o => o.ToString()).ToList();

        Assert.Equal(new[] { "data/corpus.txt" }, paths);
    }

    [Fact]
    public void Without_Recurse_only_the_folder_itself_is_listed()
    {
        var paths = _ps.Run("Get-XetFileList xetps/sample data -Endpoint $endpoint | ForEach-Object Path", Variables)
            .Select(o => o.ToString()).OrderBy(p => p).ToList();

        Assert.Equal(_hub.SampleFiles.Select(f => f.Path).Where(p => p.StartsWith("data/")).OrderBy(p => p), paths);
    }

    [Fact]
    public void A_Path_naming_a_file_lists_that_file_as_Get_ChildItem_does()
    {
        // The Hub's tree lists folders only: for a file's path it answers 404, which used to end as "not found".
        var entries = _ps.Run("Get-XetFileList xetps/sample data/labels.csv -Endpoint $endpoint", Variables);
        var listed = _ps.Run("Get-XetFileList xetps/sample data -Endpoint $endpoint | Where-Object Path -eq data/labels.csv", Variables);

        var entry = Assert.Single(entries);
        Assert.Equal(listed.Single().ToString(), entry.ToString());
        foreach (var property in new[] { "Repo", "Revision", "Path", "Size", "Sha256", "IsXet", "GitOid" })
            Assert.Equal(listed.Single().Properties[property].Value, entry.Properties[property].Value);
        using var missing = _ps.Script("$ErrorActionPreference = 'Stop'; Get-XetFileList xetps/sample data/nope.csv -Endpoint $endpoint", Variables);
        var thrown = Assert.ThrowsAny<RuntimeException>(() => missing.Invoke());
        Assert.StartsWith("XetFileNotFound,", ((IContainsErrorRecord)thrown).ErrorRecord.FullyQualifiedErrorId, System.StringComparison.Ordinal);
    }

    [Fact]
    public void Entries_stream_out_as_the_pages_arrive()
    {
        var variables = Variables;
        variables["log"] = _hub.Server.Log;
        _hub.Server.Log.Clear();

        var firstSeenAfter = _ps.Run(
            "$pagesAtFirst = $null; " +
            "Get-XetFileList -Repo xetps/many-files -Recurse -Endpoint $endpoint | ForEach-Object { if ($null -eq $pagesAtFirst) { $pagesAtFirst = $log.For('Tree').Count } }; " +
            "$pagesAtFirst", variables).Single();
        var pages = _hub.Server.Log.For(XetPs.Emulator.EmulatorRoute.Tree).Count;

        Assert.True(pages >= SampleHub.ManyFilesCount / SampleHub.TreePageSize, $"{pages} tree pages");
        Assert.True((int)firstSeenAfter.BaseObject < pages, $"the first entry came out after {firstSeenAfter} of {pages} pages");
    }

    [Fact]
    public void The_default_view_is_a_table_with_sizes_that_read_like_sizes()
    {
        _ps.Run("Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint | Out-Default", Variables);
        var text = _ps.Host.Text;

        Assert.Contains("Storage", text);
        Assert.Contains("3.00 MB", text);   // model.safetensors, 3 << 20 bytes
        Assert.Contains("xetps/sample @ ", text);
    }

    [Fact]
    public async Task Revision_RepoType_and_Path_choose_the_commit_the_namespace_and_the_folder_listed()
    {
        // A dataset with two commits on main: the first has docs/a.txt, the second adds docs/c.txt.
        var dataset = new RepoId(RepoType.Dataset, "xetps/revisions");
        var first = await _hub.Server.Store.CommitAsync(dataset, "main",
            new[] { RepoFile.FromText("docs/a.txt", "first\n"), RepoFile.FromText("b.txt", "root\n") });
        var second = await _hub.Server.Store.CommitAsync(dataset, "main", new[] { RepoFile.FromText("docs/c.txt", "second\n") });
        var variables = Variables;
        variables["first"] = first.Id;

        var atFirst = _ps.Run("Get-XetFileList -Repo xetps/revisions -RepoType Dataset -Revision $first -Path docs -Endpoint $endpoint", variables);
        var atHead = _ps.Run("Get-XetFileList -Repo xetps/revisions -RepoType Dataset -Path docs -Endpoint $endpoint", variables);

        Assert.Equal(new[] { ("docs/a.txt", first.Id, "Dataset") },
            atFirst.Select(e => ((string)e.Properties["Path"].Value, (string)e.Properties["Revision"].Value, e.Properties["RepoType"].Value.ToString()!)));
        Assert.Equal(new[] { ("docs/a.txt", second.Id), ("docs/c.txt", second.Id) },
            atHead.Select(e => ((string)e.Properties["Path"].Value, (string)e.Properties["Revision"].Value)).OrderBy(e => e.Item1));
        // The same name among models is another repository, which does not exist.
        using var asModel = _ps.Script("$ErrorActionPreference = 'Stop'; Get-XetFileList -Repo xetps/revisions -Endpoint $endpoint", variables);
        var thrown = Assert.ThrowsAny<RuntimeException>(() => asModel.Invoke());
        Assert.StartsWith("XetFileNotFound,", ((IContainsErrorRecord)thrown).ErrorRecord.FullyQualifiedErrorId, System.StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_ends_a_listing_whose_tree_page_never_comes()
    {
        var stall = _hub.Server.Faults.Add("tree:stall=60s");
        try
        {
            using var ps = _ps.Script("Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint", Variables);
            var running = ps.BeginInvoke();
            // Bounded wait for the listing to be inside the stalled tree request (the fault is applied on arrival).
            for (var i = 0; i < 200 && _hub.Server.Faults.AppliedCount(stall) == 0; i++) System.Threading.Thread.Sleep(50);
            Assert.Equal(1, _hub.Server.Faults.AppliedCount(stall));

            var clock = System.Diagnostics.Stopwatch.StartNew();
            ps.Stop();
            Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(running));

            // The page would arrive after 60 s: ending before that means the stop ended it.
            Assert.True(clock.Elapsed < System.TimeSpan.FromSeconds(60), $"stopping took {clock.Elapsed}");
        }
        finally
        {
            _hub.Server.Faults.Remove(stall);
        }
    }

    [Fact]
    public void With_hf_hub_offline_set_a_listing_and_a_download_fail_at_once_as_XetOffline_and_nothing_is_sent()
    {
        var before = _hub.Server.Log.TotalCount;
        var script =
            $"try {{ Get-XetFileList -Repo xetps/sample -Endpoint '{_hub.Endpoint}' -ErrorAction Stop }} catch {{ 'list: ' + $_.FullyQualifiedErrorId }}; " +
            $"try {{ Save-XetFile -Repo xetps/sample -Path config.json -Destination '{System.IO.Path.GetTempPath()}xetps-offline-{System.Guid.NewGuid():N}' -Endpoint '{_hub.Endpoint}' -ErrorAction Stop }} " +
            "catch { 'save: ' + $_.FullyQualifiedErrorId; 'message: ' + $_.Exception.Message }";

        var outcome = HostProcess.Run(new Dictionary<string, string> { ["HF_HUB_OFFLINE"] = "1" }, "-Command", script);

        Assert.Contains("list: XetOffline,XetPs.Commands.GetXetFileListCommand", outcome.Stdout);
        Assert.Contains("save: XetOffline,XetPs.Commands.SaveXetFileCommand", outcome.Stdout);
        // Offline answers from disk now: the failure names the file that is not there.
        Assert.Contains("message: Offline (HF_HUB_OFFLINE or -Offline), nothing was sent to the Hub: 'config.json' is not at", outcome.Stdout);
        Assert.Equal(before, _hub.Server.Log.TotalCount);
    }
}
