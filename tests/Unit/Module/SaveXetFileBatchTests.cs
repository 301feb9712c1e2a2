using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using XetPs.Emulator;
using XetPs.Hub;

namespace XetPs.Tests.Module;

/// <summary>
/// Save-XetFile's batches, as a script drives them: one failed file does not throw away the good ones; the
/// terminating error says what became of the batch; -ContinueOnError gives one non-terminating error per failure.
/// </summary>
public sealed class SaveXetFileBatchTests : IClassFixture<SampleHub>, IDisposable
{
    private const string Id = "XetFileNotFound,XetPs.Commands.SaveXetFileCommand";
    private readonly SampleHub _hub;
    private readonly ScratchFolder _destination = new();
    private readonly ModuleRunspace _ps = new();

    public SaveXetFileBatchTests(SampleHub hub) => _hub = hub;

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
    public void A_missing_file_fails_the_batch_only_after_the_good_files_are_saved()
    {
        // model.safetensors is held back (its resolve answers after 500 ms), so nope.bin fails while it is still
        // downloading: before, that failure cancelled it and nothing was saved.
        var slow = _hub.Server.Faults.Add("resolve:latency=500ms,path=model.safetensors");
        ErrorRecord record;
        try
        {
            using var ps = _ps.Script("$ErrorActionPreference = 'Stop'; " +
                "Save-XetFile -Repo xetps/sample -Path config.json, model.safetensors, nope.bin -Destination $destination -Endpoint $endpoint", Variables);
            record = ((IContainsErrorRecord)Assert.ThrowsAny<RuntimeException>(() => ps.Invoke())).ErrorRecord;
        }
        finally
        {
            _hub.Server.Faults.Remove(slow);
        }

        Assert.Equal(Id, record.FullyQualifiedErrorId);
        Assert.IsType<XetFileNotFoundException>(record.Exception); // the engine's own object, its message untouched
        Assert.Equal("'nope.bin' was not found in xetps/sample at revision 'main'.", record.Exception.Message);
        Assert.Equal("nope.bin", record.TargetObject);
        // What pwsh prints and "$_" gives: the failure, then the batch.
        Assert.Equal("'nope.bin' was not found in xetps/sample at revision 'main'. The batch: 2 saved, 0 up to date, 1 failed, 0 not started.",
            record.ToString());
        Assert.Equal(new[] { "config.json", "model.safetensors" }.Select(_destination.Local).OrderBy(p => p, StringComparer.Ordinal),
            _destination.Files().OrderBy(p => p, StringComparer.Ordinal));
    }

    [Fact]
    public void Input_that_arrives_after_a_failure_is_not_started_and_the_rest_is_not_read()
    {
        // One worker takes the files in order: once config.json is on disk, nope.bin's failure is already posted,
        // so README.md arrives after it. The last object must never be bound. nope.bin's answer is held 300 ms so
        // that config.json, the very next object, is accepted before that failure is known.
        var slow = _hub.Server.Faults.Add("resolve:latency=300ms,path=nope.bin");
        var variables = Variables;
        variables["configLocal"] = _destination.Local("config.json");
        using var ps = _ps.Script("$ErrorActionPreference = 'Stop'; $global:afterRefused = $null; " +
            "& { [pscustomobject]@{ Path = 'nope.bin' }; [pscustomobject]@{ Path = 'config.json' }; " +
            "    for ($i = 0; $i -lt 400 -and -not [System.IO.File]::Exists($configLocal); $i++) { [System.Threading.Thread]::Sleep(25) }; " +
            "    [pscustomobject]@{ Path = 'README.md' }; $global:afterRefused = 'read'; [pscustomobject]@{ Path = 'data/labels.csv' } } | " +
            "Save-XetFile -Repo xetps/sample -Destination $destination -Endpoint $endpoint -ThrottleLimit 1", variables);

        ErrorRecord record;
        try
        {
            record = ((IContainsErrorRecord)Assert.ThrowsAny<RuntimeException>(() => ps.Invoke())).ErrorRecord;
        }
        finally
        {
            _hub.Server.Faults.Remove(slow);
        }

        Assert.Equal(Id, record.FullyQualifiedErrorId);
        Assert.Equal("'nope.bin' was not found in xetps/sample at revision 'main'. The batch: 1 saved, 0 up to date, 1 failed, 1 not started.",
            record.ToString());
        Assert.Equal(new[] { _destination.Local("config.json") }, _destination.Files());
        Assert.Null(_ps.Runspace.SessionStateProxy.GetVariable("afterRefused"));
    }

    [Fact]
    public void ContinueOnError_gives_each_failure_as_a_non_terminating_error_with_its_stable_id()
    {
        var output = _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json, nope.bin, missing/too.bin, README.md " +
            "-Destination $destination -Endpoint $endpoint -ContinueOnError -ErrorVariable ev -ErrorAction SilentlyContinue; " +
            "$?; $ev.Count; $ev | ForEach-Object { \"$($_.FullyQualifiedErrorId) $($_.Exception.GetType().Name) $($_.TargetObject)\" }", Variables);

        // $? is false, and -ErrorVariable holds one record per failure (not a CmdletInvocationException) with the stable id.
        Assert.Equal(new object[] { false, 2 }, output.Take(2).Select(o => o.BaseObject));
        Assert.Equal(new[] { $"{Id} XetFileNotFoundException missing/too.bin", $"{Id} XetFileNotFoundException nope.bin" },
            output.Skip(2).Select(o => o.ToString()).OrderBy(l => l, StringComparer.Ordinal));
        Assert.Equal(new[] { "README.md", "config.json" }.Select(_destination.Local), _destination.Files().OrderBy(p => p, StringComparer.Ordinal));
    }

    [Fact]
    public void ContinueOnError_with_ErrorAction_Stop_is_the_terminating_batch_error_again()
    {
        var caught = _ps.Run("try { Save-XetFile -Repo xetps/sample -Path nope.bin, config.json -Destination $destination -Endpoint $endpoint " +
            "-ContinueOnError -ErrorAction Stop; 'not thrown' } catch { $_.FullyQualifiedErrorId; $_.Exception.GetType().Name; \"$_\" }", Variables);

        Assert.Equal(3, caught.Count);
        Assert.Equal(Id, caught[0].ToString());
        Assert.Equal("XetFileNotFoundException", caught[1].ToString());
        Assert.EndsWith("The batch: 1 saved, 0 up to date, 1 failed, 0 not started.", caught[2].ToString(), StringComparison.Ordinal);
        Assert.Equal(new[] { _destination.Local("config.json") }, _destination.Files());
    }

    [Fact]
    public void ContinueOnError_saves_the_safe_files_of_a_listing_that_holds_unsafe_names()
    {
        // The tree puts three paths that climb out of the destination in front of the real files.
        var fault = _hub.Server.Faults.Add("tree:hostile=dotdot");
        IReadOnlyList<PSObject> ids;
        try
        {
            ids = _ps.Run("Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint | " +
                "Save-XetFile -Destination $destination -ContinueOnError -ErrorVariable ev -ErrorAction SilentlyContinue; " +
                "$ev | ForEach-Object FullyQualifiedErrorId", Variables);
        }
        finally
        {
            _hub.Server.Faults.Remove(fault);
        }

        Assert.Equal(Enumerable.Repeat("XetUnsafePath,XetPs.Commands.SaveXetFileCommand", 3), ids.Select(o => o.ToString()));
        Assert.Equal(_hub.SampleFiles.Count, _destination.Files().Length);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_destination.Path)!, "escaped.bin")));
    }

    [Fact]
    public void A_stop_while_a_failed_batch_finishes_its_files_ends_everything_at_once()
    {
        // model.safetensors' xorb never comes: after nope.bin failed, the batch waits for it, and only a stop ends
        // that wait. Before, the failure cancelled everything and threw at once, so there was nothing to stop.
        var stall = _hub.Server.Faults.Add("xorb:stall-after=0,stall=60s");
        try
        {
            _hub.Server.Log.Clear();
            using var ps = _ps.Script("Save-XetFile -Repo xetps/sample -Path model.safetensors, nope.bin -Destination $destination -Endpoint $endpoint", Variables);
            var running = ps.BeginInvoke();
            // Bounded wait for both: nope.bin's answer and the stalled xorb request.
            for (var i = 0; i < 400 && !(_hub.Server.Log.Entries.Any(e => e.Route == EmulatorRoute.Resolve && e.Status == 404)
                                         && _hub.Server.Faults.AppliedCount(stall) > 0); i++) Thread.Sleep(25);
            Assert.NotEqual(0, _hub.Server.Faults.AppliedCount(stall));

            var clock = Stopwatch.StartNew();
            ps.Stop();
            Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(running));

            // The server would hold the range for 60 s: ending before that means the stop ended it.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"stopping took {clock.Elapsed}");
            Assert.Empty(_destination.Files());
        }
        finally
        {
            _hub.Server.Faults.Remove(stall);
        }
    }
}
