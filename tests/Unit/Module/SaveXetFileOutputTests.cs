using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using XetPs.Emulator;

namespace XetPs.Tests.Module;

/// <summary>What Save-XetFile writes besides the files: verbose lines, the summary, -PassThru objects, progress.</summary>
public sealed class SaveXetFileOutputTests : IClassFixture<SampleHub>, IDisposable
{
    private const string ListAll = "Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint";
    private readonly SampleHub _hub;
    private readonly ScratchFolder _destination = new();
    private readonly ModuleRunspace _ps = new();

    public SaveXetFileOutputTests(SampleHub hub) => _hub = hub;

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

    [Fact]
    public void Verbose_writes_one_line_per_file_and_a_closing_summary()
    {
        _ps.Run(ListAll + " | Save-XetFile -Destination $destination", Variables);

        using var ps = _ps.Script(ListAll + " | Save-XetFile -Destination $destination -Verbose", Variables);
        ps.Invoke();

        Assert.False(ps.HadErrors);
        var lines = ps.Streams.Verbose.Select(v => v.Message).ToList();
        // Before, ShouldProcess added "Performing the operation ..." for every file beside its "Skipped" line.
        Assert.Equal(_hub.SampleFiles.Count + 1, lines.Count);
        Assert.All(lines.Take(_hub.SampleFiles.Count), l => Assert.StartsWith("Skipped ", l, StringComparison.Ordinal));
        Assert.Matches(@$"^Save-XetFile: 0 saved, {_hub.SampleFiles.Count} up to date, 0 failed, 0 not started; 0 B saved in \d+\.\d s\.$", lines[^1]);
    }

    [Fact]
    public void The_closing_summary_is_an_information_record_too()
    {
        var summary = _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json, README.md -Destination $destination -Endpoint $endpoint " +
            "-InformationVariable info; $info | ForEach-Object { $_.Tags -join ','; \"$($_.MessageData)\" }", Variables);

        Assert.Equal("XetPs,Summary", summary[0].ToString());
        Assert.Matches(@"^Save-XetFile: 2 saved, 0 up to date, 0 failed, 0 not started; 177 B saved in \d+\.\d s\.$", summary[1].ToString());
    }

    [Fact]
    public void PassThru_writes_the_files_in_the_order_of_the_input()
    {
        // The first file is held back (its resolve answers after 500 ms), so the others finish before it.
        var slow = _hub.Server.Faults.Add("resolve:latency=500ms,path=model.safetensors");
        IReadOnlyList<PSObject> names;
        try
        {
            names = _ps.Run("Save-XetFile -Repo xetps/sample -Path model.safetensors, config.json, data/labels.csv, README.md " +
                "-Destination $destination -Endpoint $endpoint -PassThru | ForEach-Object Name", Variables);
        }
        finally
        {
            _hub.Server.Faults.Remove(slow);
        }

        Assert.Equal(new[] { "model.safetensors", "config.json", "labels.csv", "README.md" }, names.Select(n => n.ToString()));
    }

    [Fact]
    public void Progress_ends_with_the_final_counts_before_the_Completed_records()
    {
        using var ps = _ps.Script(ListAll + " | Save-XetFile -Destination $destination", Variables);
        ps.Invoke();

        Assert.False(ps.HadErrors);
        var parent = ps.Streams.Progress.Where(r => r.ActivityId == 1).ToList();
        // What a log of the progress ends with: every file done, not the state before the last ones ended.
        var last = parent.Last(r => r.RecordType == ProgressRecordType.Processing);
        Assert.StartsWith($"{_hub.SampleFiles.Count} of {_hub.SampleFiles.Count} files, ", last.StatusDescription, StringComparison.Ordinal);
        Assert.Equal(ProgressRecordType.Completed, parent[^1].RecordType);
    }

    [Fact]
    public void Progress_shows_the_rate_and_the_time_left_apart_in_its_status()
    {
        // 8 MiB at 4 MB/s: two seconds of transfer, so a rate is known while bytes remain.
        var capped = _hub.Server.Faults.Add("resolve:throughput=4000000");
        try
        {
            using var ps = _ps.Script("Save-XetFile -Repo xetps/large-plain -Path large.bin -Destination $destination -Endpoint $endpoint", Variables);
            ps.Invoke();

            Assert.False(ps.HadErrors);
            var parent = ps.Streams.Progress.Where(r => r.ActivityId == 1 && r.RecordType == ProgressRecordType.Processing).ToList();
            // pwsh's one-line view glued SecondsRemaining to the status ("988 KB/s6s"): the time left is now text.
            Assert.Contains(parent, r => Regex.IsMatch(r.StatusDescription, @"^0 of 1 files, [\d.]+ [KM]?B of 8\.00 MB, [\d.]+ [KM]?B/s, \d+ s left$"));
            Assert.All(ps.Streams.Progress, r => Assert.Equal(-1, r.SecondsRemaining));
            Assert.All(parent, r => Assert.Equal("Save-XetFile", r.Activity));
        }
        finally
        {
            _hub.Server.Faults.Remove(capped);
        }
    }

    [Fact]
    public void Per_file_progress_moves_while_the_range_of_a_xet_file_is_still_arriving()
    {
        // model.safetensors is one range of one xorb, here served at 1.5 MB/s (two seconds): before, its bar stayed
        // at 0 until the whole range had arrived, then jumped to the end.
        var capped = _hub.Server.Faults.Add("xorb:throughput=1500000");
        try
        {
            using var ps = _ps.Script("Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination $destination -Endpoint $endpoint", Variables);
            ps.Invoke();

            Assert.False(ps.HadErrors);
            var child = ps.Streams.Progress.Where(r => r.ActivityId != 1 && r.RecordType == ProgressRecordType.Processing).ToList();
            Assert.Contains(child, r => r.PercentComplete is > 0 and < 100);
        }
        finally
        {
            _hub.Server.Faults.Remove(capped);
        }
    }

    [Fact]
    public async Task A_downstream_Select_Object_First_ends_the_pipeline_and_the_download_in_flight()
    {
        // Debug records merged into the output reach Select-Object -First 2 while model.safetensors' xorb stalls
        // (the second record is held until the stall has begun): the command must end cleanly (no error), at once,
        // and leave no download running behind it.
        var stall = _hub.Server.Faults.Add("xorb:stall-after=0,stall=60s");
        try
        {
            ImportUtilityCmdlets();
            _hub.Server.Log.Clear();
            var variables = Variables;
            variables["faults"] = _hub.Server.Faults;
            variables["stall"] = stall;
            using var ps = _ps.Script("$seen = 0; Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination $destination -Endpoint $endpoint -Debug 5>&1 | " +
                "ForEach-Object { if (++$seen -eq 2) { for ($i = 0; $i -lt 400 -and $faults.AppliedCount($stall) -eq 0; $i++) { [System.Threading.Thread]::Sleep(25) } }; $_ } | " +
                "Select-Object -First 2 | ForEach-Object { \"$_\" }", variables);
            var clock = Stopwatch.StartNew();
            var output = ps.Invoke();
            clock.Stop();

            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error.Select(e => e.ToString())));
            Assert.Equal(2, output.Count);
            Assert.NotEqual(0, _hub.Server.Faults.AppliedCount(stall));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the pipeline took {clock.Elapsed}");
            // The stalled request was cut when the command ended: its log entry is written when its handler ends.
            var xorb = await _hub.Server.Log.WaitForAsync(e => e.Route == EmulatorRoute.Xorb, TimeSpan.FromSeconds(30));
            Assert.True(xorb.Aborted, "the stalled xorb request was not aborted");
            Assert.Empty(_destination.Files());
        }
        finally
        {
            _hub.Server.Faults.Remove(stall);
        }
    }

    /// <summary>Select-Object (pwsh's Utility cmdlets) in this runspace only: the hosted engine has the core ones.</summary>
    private void ImportUtilityCmdlets()
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _ps.Runspace;
        ps.AddCommand("Import-Module").AddParameter("Assembly", typeof(Microsoft.PowerShell.Commands.SelectObjectCommand).Assembly).Invoke();
    }
}
