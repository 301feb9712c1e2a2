using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Threading;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;

namespace XetPs.Tests.Module;

/// <summary>Save-XetFile as a user drives it, in the hosted engine, against the emulator's sample repo.</summary>
public sealed class SaveXetFileTests : IClassFixture<SampleHub>, IDisposable
{
    private const string ListAll = "Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint";
    private readonly SampleHub _hub;
    private readonly ScratchFolder _destination = new();
    private readonly ModuleRunspace _ps = new();

    public SaveXetFileTests(SampleHub hub) => _hub = hub;

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
    public void Piped_listing_binds_by_property_name_and_every_file_lands_with_its_bytes()
    {
        _ps.Run(ListAll + " | Save-XetFile -Destination $destination -Endpoint $endpoint", Variables);

        foreach (var file in _hub.SampleFiles)
        {
            var local = _destination.Local(file.Path);
            Assert.True(File.Exists(local), $"{file.Path} was not saved");
            Assert.Equal(file.Sha256, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(local))).ToLowerInvariant());
        }
        Assert.Equal(_hub.SampleFiles.Count, _destination.Files().Length);
    }

    [Fact]
    public void PassThru_writes_each_saved_file_as_the_FileSystem_provider_item_Get_Item_returns()
    {
        var output = _ps.Run(ListAll + " -Include *.json | Save-XetFile -Destination $destination -Endpoint $endpoint -PassThru", Variables);

        var item = Assert.Single(output);
        var info = Assert.IsType<FileInfo>(item.BaseObject);
        Assert.Equal(_destination.Local("config.json"), info.FullName);
        Assert.Equal(_hub.SampleFiles.Single(f => f.Path == "config.json").Size, info.Length);
        // The provider's notes: what Remove-Item binds to (PSPath) and what the default file view reads.
        Assert.Equal("FileSystem", Assert.IsType<ProviderInfo>(item.Properties["PSProvider"]!.Value).Name);
        Assert.EndsWith(info.FullName, (string)item.Properties["PSPath"]!.Value);
        if (!OperatingSystem.IsWindows())
            Assert.NotNull(item.Properties["UnixStat"]?.Value); // UnixMode, User, Group and Size read it
    }

    [Fact]
    public void WhatIf_names_each_file_and_writes_nothing_and_downloads_nothing()
    {
        var listed = _ps.Run(ListAll, Variables).Count;
        _hub.Server.Log.Clear();

        _ps.Run(ListAll + " | Save-XetFile -Destination $destination -Endpoint $endpoint -WhatIf", Variables);

        // Nothing at all: no file, no repo folder, not even the engine's .cache records.
        Assert.Empty(Directory.GetFileSystemEntries(_destination.Path));
        var whatIf = _ps.Host.Text.Split('\n').Where(l => l.StartsWith("What if:", StringComparison.Ordinal)).ToList();
        Assert.Equal(listed, whatIf.Count);
        Assert.Contains(whatIf, l => l.Contains(_destination.Local("model.safetensors"), StringComparison.Ordinal));
        Assert.DoesNotContain(_hub.Server.Log.Entries, e => e.Route is EmulatorRoute.Reconstruction or EmulatorRoute.Xorb or EmulatorRoute.Resolve);
    }

    [Fact]
    public void Confirm_asks_once_per_file_and_a_no_skips_that_file()
    {
        _ps.Host.ChoiceAnswers.Enqueue("&Yes");
        _ps.Host.ChoiceAnswers.Enqueue("&No");

        _ps.Run("Save-XetFile -Repo xetps/sample -Path config.json, README.md -Destination $destination -Endpoint $endpoint -Confirm", Variables);

        Assert.Equal(2, _ps.Host.Text.Split('\n').Count(l => l.StartsWith("PROMPT: ", StringComparison.Ordinal)));
        Assert.Equal(new[] { _destination.Local("config.json") }, _destination.Files());
    }

    [Fact]
    public void A_whole_pipeline_shares_one_session_so_its_xet_files_share_one_CAS_token()
    {
        var xetFiles = _hub.SampleFiles.Count(f => f.IsXet);
        Assert.True(xetFiles >= 2, "the sample repo needs several Xet files for this spec");
        _hub.Server.Log.Clear();

        _ps.Run(ListAll + " | Save-XetFile -Destination $destination", Variables);

        // One session holds one token per repo and commit; a session per file would ask once per Xet file.
        Assert.Equal(xetFiles, _hub.Server.Log.For(EmulatorRoute.Reconstruction).Select(e => e.Path).Distinct().Count());
        Assert.Single(_hub.Server.Log.For(EmulatorRoute.Token));
    }

    [Fact]
    public void Downloads_start_while_the_listing_is_still_arriving()
    {
        // Six tree pages, each held 500 ms: a cmdlet that waited for the whole listing would start no download
        // before the last page was asked for.
        var slowPages = _hub.Server.Faults.Add("tree:latency=500ms");
        try
        {
            _hub.Server.Log.Clear();
            _ps.Run("Get-XetFileList -Repo xetps/many-files -Recurse -Endpoint $endpoint | Save-XetFile -Destination $destination", Variables);
        }
        finally
        {
            _hub.Server.Faults.Remove(slowPages);
        }

        Assert.Equal(SampleHub.ManyFilesCount, _destination.Files().Length);
        var entries = _hub.Server.Log.Entries;
        var lastPage = entries.Where(e => e.Route == EmulatorRoute.Tree).Max(e => e.Sequence);
        var firstDownload = entries.Where(e => e.Route != EmulatorRoute.Tree).Min(e => e.Sequence);
        Assert.True(firstDownload < lastPage, $"the first download request (#{firstDownload}) came after the last tree page (#{lastPage})");
    }

    [Fact]
    public void Progress_has_one_parent_children_under_it_and_ends_with_Completed_records()
    {
        using var ps = _ps.Script(ListAll + " | Save-XetFile -Destination $destination -Endpoint $endpoint", Variables);
        ps.Invoke();
        Assert.False(ps.HadErrors);

        var records = ps.Streams.Progress.ToList();
        var parent = records.Where(r => r.ActivityId == 1).ToList();
        Assert.NotEmpty(parent);
        Assert.All(parent, r => Assert.Equal(-1, r.ParentActivityId));
        Assert.Equal(ProgressRecordType.Completed, parent[^1].RecordType);

        var children = records.Where(r => r.ActivityId != 1).GroupBy(r => r.ActivityId).ToList();
        Assert.NotEmpty(children);
        foreach (var child in children)
        {
            Assert.All(child, r => Assert.Equal(1, r.ParentActivityId));
            Assert.Equal(ProgressRecordType.Completed, child.Last().RecordType);
        }
        // The parent completes last: no child record follows it.
        Assert.Same(parent[^1], records[^1]);
    }

    [Fact]
    public void Progress_is_rendered_at_most_five_times_a_second_however_often_the_engine_reports()
    {
        // Sixty small files: the engine reports far more often than five times a second.
        using var ps = _ps.Script("Get-XetFileList -Repo xetps/many-files -Recurse -Endpoint $endpoint | Save-XetFile -Destination $destination", Variables);
        var clock = Stopwatch.StartNew();
        ps.Invoke();
        clock.Stop();

        Assert.False(ps.HadErrors);
        Assert.Equal(SampleHub.ManyFilesCount, _destination.Files().Length);
        var renders = ps.Streams.Progress.Count(r => r.ActivityId == 1 && r.RecordType == ProgressRecordType.Processing);
        // Renders are at least 200 ms apart, so their number is bounded by the time the command took, on any
        // machine: a slower run only raises the bound. The final counts are rendered once more at the end.
        Assert.InRange(renders, 1, 2 + (int)(clock.Elapsed.TotalMilliseconds / 200));
    }

    [Fact]
    public void A_console_that_draws_progress_slowly_costs_a_few_renders_not_one_per_engine_report()
    {
        // 8 MiB plain: the engine reports after every read of 64 KiB or less, 128 times or more. Each render takes
        // 250 ms here, longer than the render interval, so one render per report would take 32 s or more.
        _ps.Host.ProgressDelay = TimeSpan.FromMilliseconds(250);
        using var ps = _ps.Script("Save-XetFile -Repo xetps/large-plain -Path large.bin -Destination $destination -Endpoint $endpoint", Variables);
        ps.Invoke();

        Assert.False(ps.HadErrors);
        Assert.Equal(SampleHub.LargePlainSize, new FileInfo(_destination.Local("large.bin")).Length);
        // Reports made while a render is under way collapse into one, the latest: the renders follow the time the
        // download takes (a few on loopback), not the number of reports.
        var renders = _ps.Host.ProgressRecords.Count(r => r.ActivityId == 1 && r.RecordType == ProgressRecordType.Processing);
        Assert.InRange(renders, 1, 16);
    }

    [Fact]
    public void ProgressPreference_SilentlyContinue_writes_no_progress()
    {
        using var ps = _ps.Script("$ProgressPreference = 'SilentlyContinue'; " + ListAll + " | Save-XetFile -Destination $destination -Endpoint $endpoint", Variables);
        ps.Invoke();

        Assert.False(ps.HadErrors);
        Assert.Empty(ps.Streams.Progress);
        Assert.Equal(_hub.SampleFiles.Count, _destination.Files().Length);
    }

    [Fact]
    public void A_failed_file_is_a_terminating_error_whose_exception_is_the_engines_own()
    {
        using var ps = _ps.Script("$ErrorActionPreference = 'Stop'; Save-XetFile -Repo xetps/sample -Path no/such/file.bin -Destination $destination -Endpoint $endpoint", Variables);

        var thrown = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());

        var record = ((IContainsErrorRecord)thrown).ErrorRecord;
        Assert.IsType<XetFileNotFoundException>(record.Exception);
        Assert.Equal("XetFileNotFound,XetPs.Commands.SaveXetFileCommand", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, record.CategoryInfo.Category);
        Assert.Equal("no/such/file.bin", record.TargetObject);
        Assert.Empty(_destination.Files());
    }

    [Fact]
    public void A_server_that_keeps_failing_is_shown_with_the_file_and_the_attempts_while_the_exception_stays_the_servers()
    {
        // In a child process (tools/ps's host): the retry settings are environment variables, which are per process.
        var environment = new Dictionary<string, string>
        {
            ["HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"] = "2",
            ["HF_XET_CLIENT_RETRY_BASE_DELAY"] = "1ms",
        };
        var failing = _hub.Server.Faults.Add("xorb:status=503");
        try
        {
            var outcome = HostProcess.Run(environment, "-Command",
                $"try {{ Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination '{_destination.Path}' -Endpoint '{_hub.Endpoint}' }} " +
                "catch { $_.Exception.GetType().Name; $_.FullyQualifiedErrorId; $_.Exception.Message; \"$_\" }");

            var lines = outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
            Assert.True(lines.Length == 4, outcome.ToString());
            Assert.Equal("HttpRequestException", lines[0]);
            Assert.Equal("XetDownloadFailed,XetPs.Commands.SaveXetFileCommand", lines[1]);
            Assert.Matches(@"^the fetch of xorb [0-9a-f]{64} from 127\.0\.0\.1 answered 503 Service Unavailable\.$", lines[2]);
            // What pwsh shows and "$_" gives: the file first, the server's words, then that the retries ran out.
            Assert.Matches(@"^model\.safetensors: the fetch of xorb [0-9a-f]{64} from 127\.0\.0\.1 answered 503 Service Unavailable; " +
                           @"gave up after 3 attempts in \d+\.\d s\.$", lines[3]);
            Assert.Empty(_destination.Files());
        }
        finally
        {
            _hub.Server.Faults.Remove(failing);
        }
    }

    [Fact]
    public void A_server_gone_silent_is_XetDownloadStalled_after_XETPS_STALL_TIMEOUT_whatever_the_read_timeout()
    {
        // In a child process: the settings are environment variables. The xorb fetch gets its headers, then nothing:
        // the read timeout (60 s) would end the attempt, the stall timeout (2 s) ends the file first. Before, a request
        // in flight counted as progress and XETPS_STALL_TIMEOUT changed nothing.
        var environment = new Dictionary<string, string>
        {
            ["XETPS_STALL_TIMEOUT"] = "2s",
            ["HF_XET_CLIENT_READ_TIMEOUT"] = "60s",
        };
        var silent = _hub.Server.Faults.Add("xorb:stall-after=0,stall=60s");
        try
        {
            var outcome = HostProcess.Run(environment, "-Command",
                $"try {{ Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination '{_destination.Path}' -Endpoint '{_hub.Endpoint}' }} " +
                "catch { $_.Exception.GetType().Name; $_.FullyQualifiedErrorId; $_.Exception.Message }");

            var lines = outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
            Assert.True(lines.Length == 3, outcome.ToString());
            Assert.Equal("XetStallException", lines[0]);
            Assert.Equal("XetDownloadStalled,XetPs.Commands.SaveXetFileCommand", lines[1]);
            Assert.StartsWith("The download of 'model.safetensors' moved no byte for 2 s while work was pending: ", lines[2]);
            Assert.Contains("requests in flight: the fetch of xorb ", lines[2]);
            Assert.Empty(_destination.Files());
        }
        finally
        {
            _hub.Server.Faults.Remove(silent);
        }
    }

    [Fact]
    public void A_file_the_disk_cannot_hold_is_refused_up_front_with_the_sizes_and_nothing_lands()
    {
        // A listed file as piped from Get-XetFileList, but a petabyte long: more than any test machine has free.
        using var ps = _ps.Script(
            "$ErrorActionPreference = 'Stop'; " +
            "$file = Get-XetFileList -Repo xetps/sample -Recurse -Endpoint $endpoint | Where-Object Path -eq model.safetensors; " +
            "[pscustomobject]@{ Repo = $file.Repo; Revision = $file.Revision; Path = $file.Path; Size = 1PB; " +
            "  XetHash = $file.XetHash; IsXet = $true } | Save-XetFile -Destination $destination -Endpoint $endpoint", Variables);

        var thrown = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());

        var record = ((IContainsErrorRecord)thrown).ErrorRecord;
        Assert.Equal("XetInsufficientDiskSpace,XetPs.Commands.SaveXetFileCommand", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, record.CategoryInfo.Category);
        Assert.Contains("(1.0 PiB) more", record.Exception.Message);
        Assert.Empty(_destination.Files());
    }

    [Fact]
    public void A_terminating_error_in_a_script_stops_the_statement_and_catch_sees_the_engine_exception()
    {
        var output = _ps.Run(
            "try { Save-XetFile -Repo xetps/sample -Path missing.bin -Destination $destination -Endpoint $endpoint } " +
            "catch { $_.Exception.GetType().Name; $_.FullyQualifiedErrorId }", Variables);

        Assert.Equal(new[] { "XetFileNotFoundException", "XetFileNotFound,XetPs.Commands.SaveXetFileCommand" },
            output.Select(o => o.ToString()));
    }

    [Fact]
    public void A_file_already_up_to_date_is_skipped_with_a_verbose_message_and_no_download()
    {
        _ps.Run(ListAll + " | Save-XetFile -Destination $destination -Endpoint $endpoint", Variables);
        var model = _destination.Local("model.safetensors");
        var writtenAt = File.GetLastWriteTimeUtc(model);
        _hub.Server.Log.Clear();

        using var ps = _ps.Script(ListAll + " | Save-XetFile -Destination $destination -Endpoint $endpoint -Verbose", Variables);
        ps.Invoke();

        Assert.False(ps.HadErrors);
        Assert.Contains(ps.Streams.Verbose, v => v.Message.StartsWith("Skipped model.safetensors", StringComparison.Ordinal));
        Assert.Equal(writtenAt, File.GetLastWriteTimeUtc(model));
        Assert.DoesNotContain(_hub.Server.Log.Entries, e => e.Route is EmulatorRoute.Reconstruction or EmulatorRoute.Xorb);
    }

    [Fact]
    public void Engine_log_lines_become_debug_records_and_verbose_keeps_one_line_per_file()
    {
        using var ps = _ps.Script("Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination $destination -Endpoint $endpoint -Verbose -Debug", Variables);
        ps.Invoke();

        Assert.False(ps.HadErrors);
        // The cmdlet's own debug line is "Downloading xetps/sample:<path>"; the others come from the engine's logger.
        Assert.Contains(ps.Streams.Debug, d => d.Message.Contains("model.safetensors", StringComparison.Ordinal)
                                              && !d.Message.StartsWith("Downloading xetps/sample:", StringComparison.Ordinal));
        // One line per file, and the command's closing summary.
        var verbose = ps.Streams.Verbose.Select(v => v.Message).Where(m => !m.StartsWith("Save-XetFile: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { "Saved model.safetensors" }, verbose.Select(m => m.Substring(0, m.IndexOf(" to ", StringComparison.Ordinal))));
    }

    [Fact]
    public void Without_Destination_files_land_in_the_current_location()
    {
        _ps.Run("$ExecutionContext.SessionState.Path.SetLocation($destination) | Out-Null; " +
                "Save-XetFile xetps/sample data/labels.csv -Endpoint $endpoint", Variables);

        Assert.Equal(new[] { _destination.Local("data/labels.csv") }, _destination.Files());
    }

    [Fact]
    public void The_same_file_asked_twice_in_one_pipeline_is_saved_once()
    {
        using var ps = _ps.Script("Save-XetFile -Repo xetps/sample -Path model.safetensors, model.safetensors -Destination $destination -Endpoint $endpoint -Verbose", Variables);
        ps.Invoke();

        Assert.False(ps.HadErrors);
        Assert.Single(ps.Streams.Verbose, v => v.Message.StartsWith("Saved model.safetensors", StringComparison.Ordinal));
        Assert.Single(ps.Streams.Verbose, v => v.Message.Contains("already being saved", StringComparison.Ordinal));
        Assert.Equal(new[] { _destination.Local("model.safetensors") }, _destination.Files());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ThrottleLimit_bounds_the_files_in_flight(int limit)
    {
        // Every resolve answer takes 300 ms, so the files that may run together do overlap.
        var slow = _hub.Server.Faults.Add("resolve:latency=300ms");
        try
        {
            var variables = Variables;
            variables["limit"] = limit;
            _ps.Run("Save-XetFile -Repo xetps/sample -Path README.md, config.json, data/labels.csv, data/corpus.txt, model.safetensors, data/train-00000.bin " +
                    "-Destination $destination -Endpoint $endpoint -ThrottleLimit $limit -Verbose -Debug", variables);
        }
        finally
        {
            _hub.Server.Faults.Remove(slow);
        }

        // The host receives the cmdlet's lines in the order they were written on the pipeline thread.
        int running = 0, most = 0;
        foreach (var line in _ps.Host.Text.Split('\n'))
        {
            if (line.StartsWith("DEBUG: Downloading xetps/sample:", StringComparison.Ordinal)) most = Math.Max(most, ++running);
            else if (line.StartsWith("VERBOSE: Saved ", StringComparison.Ordinal)) running--;
        }
        Assert.Equal(0, running);
        Assert.Equal(limit, most);
    }

    [Fact]
    public void Bad_parameters_fail_before_any_request()
    {
        _hub.Server.Log.Clear();
        var scripts = new[]
        {
            "Save-XetFile -Repo xetps/sample -Path ../outside.bin -Destination $destination -Endpoint $endpoint",
            "Save-XetFile -Repo 'xetps/sam ple' -Path config.json -Destination $destination -Endpoint $endpoint",
            "Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint 'ftp://127.0.0.1/'",
            "Save-XetFile -Repo datasets/xetps/sample -RepoType Model -Path config.json -Destination $destination -Endpoint $endpoint",
            "Get-XetFileList -Repo 'a/b/c/d' -Endpoint $endpoint",
            "Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint $endpoint -Proxy 'ftp://127.0.0.1:21'",
            "Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint $endpoint -Proxy 'http://alice:secret@127.0.0.1:9'",
            "Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint $endpoint -Proxy $endpoint -NoProxy",
            "Get-XetFileList -Repo xetps/sample -Endpoint $endpoint -Proxy 'socks5://127.0.0.1:1080'",
        };
        foreach (var script in scripts)
        {
            using var ps = _ps.Script("$ErrorActionPreference = 'Stop'; " + script, Variables);
            var thrown = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());
            var id = ((IContainsErrorRecord)thrown).ErrorRecord.FullyQualifiedErrorId;
            Assert.True(id.StartsWith("XetInvalidArgument,", StringComparison.Ordinal) || id.StartsWith("XetUnsafePath,", StringComparison.Ordinal), $"{script}: {id}");
        }

        Assert.Empty(_hub.Server.Log.Entries);
        Assert.Empty(_destination.Files());
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_destination.Path)!, "outside.bin")));
    }

    [Fact]
    public void Proxy_and_ProxyCredential_carry_the_listing_and_every_download_through_that_proxy()
    {
        using var proxy = new ProxyScope("alice", "pr0xy-s3cret");
        var variables = Variables;
        variables["proxy"] = proxy.Server.Url;
        variables["proxyCredential"] = new PSCredential("alice", SampleHub.Secure("pr0xy-s3cret"));
        _hub.Server.Log.Clear();

        _ps.Run(ListAll + " -Proxy $proxy -ProxyCredential $proxyCredential | " +
            "Save-XetFile -Destination $destination -Proxy $proxy -ProxyCredential $proxyCredential", variables);

        Assert.Equal(_hub.SampleFiles.Count, _destination.Files().Length);
        Assert.Equal(_hub.Server.Log.Entries.Count, proxy.Server.Requests.Count(seen => !seen.Refused));
        Assert.Contains(_hub.Server.Log.Entries, e => e.Route == EmulatorRoute.Tree);
        Assert.Contains(_hub.Server.Log.Entries, e => e.Route == EmulatorRoute.Xorb);
    }

    [Fact]
    public void A_proxy_that_refuses_the_credentials_is_a_XetProxyAuthenticationFailed_error_and_nothing_lands()
    {
        using var proxy = new ProxyScope("alice", "another-password");
        var variables = Variables;
        variables["proxy"] = proxy.Server.Url;
        variables["proxyCredential"] = new PSCredential("alice", SampleHub.Secure("pr0xy-s3cret"));
        _hub.Server.Log.Clear();
        using var ps = _ps.Script("$ErrorActionPreference = 'Stop'; Save-XetFile -Repo xetps/sample -Path model.safetensors " +
            "-Destination $destination -Endpoint $endpoint -Proxy $proxy -ProxyCredential $proxyCredential", variables);

        var thrown = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());

        var record = ((IContainsErrorRecord)thrown).ErrorRecord;
        Assert.StartsWith("XetProxyAuthenticationFailed,", record.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.PermissionDenied, record.CategoryInfo.Category);
        Assert.Contains("407", record.Exception.Message);
        Assert.DoesNotContain("pr0xy-s3cret", record.Exception.ToString());
        Assert.Empty(_hub.Server.Log.Entries);
        Assert.Empty(_destination.Files());
    }

    [Fact]
    public void The_proxy_in_HTTP_PROXY_is_followed_and_NoProxy_goes_around_it()
    {
        using var proxy = new ProxyScope();
        // Only this proxy: any other proxy or exception list the test run inherits is removed (an empty value).
        var environment = new Dictionary<string, string>
        {
            ["HTTP_PROXY"] = proxy.Server.Url.ToString(),
            ["http_proxy"] = "",
            ["ALL_PROXY"] = "",
            ["all_proxy"] = "",
            ["NO_PROXY"] = "",
            ["no_proxy"] = "",
        };
        var save = $"Save-XetFile -Repo xetps/sample -Path config.json -Endpoint '{_hub.Endpoint}' -Destination ";

        var through = HostProcess.Run(environment, "-Command", save + $"'{Path.Combine(_destination.Path, "through")}'");
        var forwarded = proxy.Server.Requests.Count;
        var around = HostProcess.Run(environment, "-Command", save + $"'{Path.Combine(_destination.Path, "around")}' -NoProxy");

        Assert.True(through.ExitCode == 0, through.ToString());
        Assert.True(around.ExitCode == 0, around.ToString());
        Assert.True(forwarded >= 2, $"the proxy forwarded {forwarded} requests"); // resolve, then the file
        Assert.Equal(forwarded, proxy.Server.Requests.Count);
        Assert.True(File.Exists(Path.Combine(_destination.Path, "through", "config.json")));
        Assert.True(File.Exists(Path.Combine(_destination.Path, "around", "config.json")));
    }

    /// <summary>A <see cref="XetPs.Tests.Hub.ForwardProxy"/> for one test (these tests are synchronous).</summary>
    private sealed class ProxyScope : IDisposable
    {
        public ProxyScope(string? user = null, string? password = null) => Server = XetPs.Tests.Hub.ForwardProxy.Start(user, password);

        public XetPs.Tests.Hub.ForwardProxy Server { get; }

        public void Dispose() => Server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Fact]
    public void A_link_planted_in_the_working_folder_stops_with_XetUnsafePath_and_its_target_is_untouched()
    {
        // A symbolic link at the partial file's path (as an unpacked archive or a shared folder can carry) was followed:
        // the file it named, outside the destination, was truncated and filled with the model's bytes.
        using var outside = new ScratchFolder();
        var victim = Path.Combine(outside.Path, "victim.txt");
        File.WriteAllText(victim, "the user's own file\n");
        var partial = XetPs.Reconstruction.ResumeJournal.PartialPathFor(_destination.Local("model.safetensors"), "model.safetensors");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.CreateSymbolicLink(partial, victim);
        using var ps = _ps.Script("$ErrorActionPreference = 'Stop'; Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination $destination -Endpoint $endpoint", Variables);

        var thrown = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());

        var record = ((IContainsErrorRecord)thrown).ErrorRecord;
        Assert.Equal("XetUnsafePath,XetPs.Commands.SaveXetFileCommand", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.SecurityError, record.CategoryInfo.Category);
        Assert.Equal("UnsafeWorkPathException", record.Exception.GetType().Name);
        Assert.Contains(partial, record.Exception.Message);
        Assert.Equal("the user's own file\n", File.ReadAllText(victim));
        Assert.Empty(_destination.Files());
    }

    [Theory]
    [InlineData("dotdot")]
    [InlineData("absolute")]
    [InlineData("device")]
    public void A_listed_path_that_would_land_outside_the_destination_is_refused_before_anything_is_written(string hostile)
    {
        // The destination is a folder inside the scratch folder, so a '..' escape would land in the scratch folder.
        var variables = Variables;
        var inner = Path.Combine(_destination.Path, "inner");
        variables["destination"] = inner;
        var fault = _hub.Server.Faults.Add("tree:hostile=" + hostile);
        try
        {
            using var ps = _ps.Script("$ErrorActionPreference = 'Stop'; " + ListAll + " | Save-XetFile -Destination $destination", variables);

            var thrown = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());

            var record = ((IContainsErrorRecord)thrown).ErrorRecord;
            Assert.Equal("XetUnsafePath,XetPs.Commands.SaveXetFileCommand", record.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.SecurityError, record.CategoryInfo.Category);
            Assert.Equal("UnsafeRepoPathException", record.Exception.GetType().Name);
        }
        finally
        {
            _hub.Server.Faults.Remove(fault);
        }
        Assert.Empty(Directory.GetFiles(_destination.Path));
        Assert.All(Directory.GetDirectories(_destination.Path), d => Assert.Equal(inner, d));
    }

    [Fact]
    public void A_private_repo_needs_the_token_and_the_token_is_taken_as_a_SecureString()
    {
        var variables = Variables;
        variables["token"] = SampleHub.Secure(EmulatorOptions.DefaultHubToken);

        using (var anonymous = _ps.Script("$ErrorActionPreference = 'Stop'; Save-XetFile -Repo xetps/private-sample -Path secret.txt -Destination $destination -Endpoint $endpoint", variables))
        {
            // Like the Hub, the emulator does not say whether a repo it hides from anonymous callers exists.
            var thrown = Assert.ThrowsAny<RuntimeException>(() => anonymous.Invoke());
            var record = ((IContainsErrorRecord)thrown).ErrorRecord;
            Assert.StartsWith("XetFileNotFound,", record.FullyQualifiedErrorId, StringComparison.Ordinal);
            Assert.Contains("token", record.Exception.Message, StringComparison.OrdinalIgnoreCase);
        }

        _ps.Run("Save-XetFile -Repo xetps/private-sample -Path secret.txt -Destination $destination -Endpoint $endpoint -Token $token", variables);

        Assert.Equal("only with a token\n", File.ReadAllText(_destination.Local("secret.txt")));
        Assert.All(_hub.Server.Log.Entries, e => Assert.DoesNotContain(EmulatorOptions.DefaultHubToken, e.Path, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("HF_TOKEN")]
    [InlineData("HF_TOKEN_PATH")]
    public void Without_Endpoint_and_Token_the_environment_names_the_Hub_and_the_token(string tokenSource)
    {
        // In a child process (tools/ps's host): environment variables are per process, and other tests run meanwhile.
        using var tokenFolder = new ScratchFolder();
        var tokenFile = Path.Combine(tokenFolder.Path, "token");
        File.WriteAllText(tokenFile, EmulatorOptions.DefaultHubToken + "\n");
        var environment = new Dictionary<string, string>
        {
            ["HF_ENDPOINT"] = _hub.Endpoint,
            ["HF_TOKEN"] = tokenSource == "HF_TOKEN" ? EmulatorOptions.DefaultHubToken : string.Empty,
            ["HF_TOKEN_PATH"] = tokenSource == "HF_TOKEN_PATH" ? tokenFile : string.Empty,
            ["HF_HOME"] = string.Empty,
        };

        var outcome = HostProcess.Run(environment, "-Command",
            $"Save-XetFile -Repo xetps/private-sample -Path secret.txt -Destination '{_destination.Path}'");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal("only with a token\n", File.ReadAllText(_destination.Local("secret.txt")));
        Assert.DoesNotContain(EmulatorOptions.DefaultHubToken, outcome.Stdout + outcome.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_cancels_a_stalled_download_leaves_the_destination_untouched_and_a_rerun_completes()
    {
        var stall = _hub.Server.Faults.Add("xorb:stall-after=0,stall=60s");
        try
        {
            _hub.Server.Log.Clear();
            using var ps = _ps.Script("Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination $destination -Endpoint $endpoint", Variables);
            var running = ps.BeginInvoke();
            // Bounded wait for the download to reach the stalled xorb fetch (the reconstruction answer came back).
            for (var i = 0; i < 200 && _hub.Server.Log.For(EmulatorRoute.Reconstruction).Count == 0; i++) Thread.Sleep(50);
            Assert.NotEmpty(_hub.Server.Log.For(EmulatorRoute.Reconstruction));

            var clock = Stopwatch.StartNew();
            ps.Stop();
            Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(running));
            clock.Stop();

            // The server would hold the range for 60 s: ending before that means the stop, not the data, ended it.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"stopping took {clock.Elapsed}");
            Assert.False(File.Exists(_destination.Local("model.safetensors")));
        }
        finally
        {
            _hub.Server.Faults.Remove(stall);
        }

        _ps.Run("Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination $destination -Endpoint $endpoint", Variables);
        Assert.Equal(_hub.SampleFiles.Single(f => f.Path == "model.safetensors").Size, new FileInfo(_destination.Local("model.safetensors")).Length);
    }

    [Fact]
    public void Repo_completion_offers_repositories_used_before_and_makes_no_request()
    {
        _ps.Run("Get-XetFileList -Repo xetps/sample -Endpoint $endpoint", Variables);
        _hub.Server.Log.Clear();

        var completions = _ps.Run("$line = 'Save-XetFile -Repo xetps/s'; (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText");

        Assert.Contains("xetps/sample", completions.Select(c => c.ToString()));
        Assert.Empty(_hub.Server.Log.Entries);
    }
}
