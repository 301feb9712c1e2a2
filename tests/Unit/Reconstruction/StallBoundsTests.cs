using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// What bounds a stall, as the README's settings table states it, against the emulator with short settings: before
/// the headers and in a trickling body, the read timeout (per attempt, then the retries); a body gone silent, the
/// stall timeout; an error answer, the retry policy with its own error. Times are asserted only as generous ratios of
/// the configured settings (the machine is noisy); the error types, messages and attempts are the contract.
/// </summary>
public class StallBoundsTests
{
    /// <summary>Bounds each download: far beyond what a spec should take, far below what the old code took.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private const string XetPath = "weights/model.bin", PlainPath = "data/table.parquet";

    /// <summary>The GET requests of a route once at least <paramref name="atLeast"/> are logged: a request the client
    /// gave up on is logged when the server notices, a moment later (bounded wait, then the count as it is).</summary>
    private static async Task<int> RequestsAsync(EmulatorFixture emulator, EmulatorRoute route, int atLeast)
    {
        int Count() => emulator.Server.Log.For(route).Count(e => e.Method == "GET");
        for (var i = 0; i < 250 && Count() < atLeast; i++) await Task.Delay(20);
        return Count();
    }

    private static Task<EmulatorFixture> StartAsync(bool xet) => xet
        ? EmulatorFixture.StartAsync(ScenarioData.IncompressibleFile(XetPath, 1 << 20, seed: 71))
        : EmulatorFixture.StartAsync(new CommitOptions { XetMinSize = long.MaxValue }, ScenarioData.IncompressibleFile(PlainPath, 300_000, seed: 72));

    [Theory]
    [InlineData("xorb", "the fetch of xorb", EmulatorRoute.Xorb)]
    [InlineData("reconstruction", "reconstruction of", EmulatorRoute.Reconstruction)]
    [InlineData("resolve", "the download of", EmulatorRoute.Resolve)]
    public async Task A_body_that_trickles_is_cut_after_each_read_timeout_naming_the_request(string route, string named, EmulatorRoute logged)
    {
        // One byte a second, inside every read timeout of 1.5 s: the old per-read timeout never fired, and the body
        // took as long as the server liked. The default low-speed limit (10 bytes per second) cuts each attempt.
        var xet = route != "resolve";
        await using var emulator = await StartAsync(xet);
        emulator.Server.Faults.Add(route + ":throughput=1");
        var options = emulator.Options();
        options.ReadTimeout = TimeSpan.FromSeconds(1.5);
        options.MaxRetries = 1;
        await using var session = new XetSession(options);
        var request = emulator.Request(xet ? XetPath : PlainPath);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<XetReadTimeoutException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Contains(named, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("127.0.0.1", error.Message);
        Assert.Contains("in 1.5 s, slower than the low-speed limit of 10 bytes per second", error.Message);
        Assert.DoesNotContain("Signature", error.Message);
        Assert.Equal(2, await RequestsAsync(emulator, logged, 2));
        Assert.True(clock.Elapsed >= 2 * options.ReadTimeout * 0.9, $"cut after {clock.Elapsed}, before two read timeouts");
        Assert.False(File.Exists(request.DestinationPath));
    }

    [Fact]
    public async Task A_tree_page_that_trickles_is_cut_after_the_read_timeout_naming_the_listing()
    {
        await using var emulator = await StartAsync(xet: true);
        emulator.Server.Faults.Add("tree:throughput=1");
        var options = emulator.Options();
        options.ReadTimeout = TimeSpan.FromSeconds(1.5);
        options.MaxRetries = 0;
        await using var session = new XetSession(options);

        var error = await Assert.ThrowsAsync<XetReadTimeoutException>(() =>
            session.ListFilesAsync(EmulatorFixture.Repo, "main", null, recursive: true).ToListAsync().AsTask().WaitAsync(Bound));

        Assert.Contains("tree listing", error.Message);
        Assert.Contains("127.0.0.1", error.Message);
        Assert.Contains("slower than the low-speed limit", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_request_that_sends_no_headers_is_cut_after_the_read_timeout(bool xet)
    {
        // Before, the wait for headers was the connect timeout plus the read timeout: 75 s with defaults, where the
        // README said 60 s. Now it is the read timeout, the connection included.
        await using var emulator = await StartAsync(xet);
        emulator.Server.Faults.Add((xet ? "reconstruction" : "resolve") + ":stall=60s");
        var options = emulator.Options();
        options.ReadTimeout = TimeSpan.FromSeconds(1);
        options.MaxRetries = 0;
        await using var session = new XetSession(options);
        var request = emulator.Request(xet ? XetPath : PlainPath);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<XetReadTimeoutException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Matches(@"^No response from .*\(127\.0\.0\.1(:\d+)?\).* within 1 s\.$", error.Message);
        Assert.True(clock.Elapsed < new XetHttpOptions().ConnectTimeout, $"cut after {clock.Elapsed}: the connect timeout was added again");
        Assert.False(File.Exists(request.DestinationPath));
    }

    [Theory]
    [InlineData("xorb:stall=60s,stall-after=100", true, "the fetch of xorb")]
    [InlineData("reconstruction:stall=60s", true, "the reconstruction of")]
    [InlineData("resolve:stall=60s,stall-after=100", false, "the download of")]
    public async Task A_server_gone_silent_fails_the_file_after_the_stall_timeout_naming_the_request(string fault, bool xet, string named)
    {
        // Mid-body (after 100 bytes) or before the headers, under a read timeout of 30 s: the request in flight was
        // counted as progress (and plain files had no watchdog), so XETPS_STALL_TIMEOUT changed nothing.
        await using var emulator = await StartAsync(xet);
        emulator.Server.Faults.Add(fault);
        var options = emulator.Options();
        options.ReadTimeout = TimeSpan.FromSeconds(30);
        options.StallTimeout = TimeSpan.FromSeconds(1);
        await using var session = new XetSession(options);
        var request = emulator.Request(xet ? XetPath : PlainPath);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<XetStallException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.StartsWith($"The download of '{request.Path}' moved no byte for 1 s while work was pending:", error.Message);
        Assert.Contains(named + " ", error.Message);
        Assert.Contains("(attempt 1, for ", error.Message);
        Assert.True(clock.Elapsed >= options.StallTimeout * 0.9, $"failed after {clock.Elapsed}, before the stall timeout");
        Assert.True(clock.Elapsed < options.ReadTimeout, $"failed after {clock.Elapsed}: the read timeout, not the stall timeout, ended it");
        Assert.False(File.Exists(request.DestinationPath));
        Assert.Equal(0, session.Resources.Registry.LoadsRunning);
    }

    [Fact]
    public async Task A_server_silent_through_its_retries_fails_after_the_stall_timeout_with_its_last_error_inside()
    {
        // Read timeouts of 0.5 s, retried ten times: the retries of a silent server were counted as progress and ran
        // their course. Silence never stops the watchdog's clock; its error carries the transport's own inside.
        await using var emulator = await StartAsync(xet: true);
        emulator.Server.Faults.Add("xorb:stall=60s,stall-after=0");
        var options = emulator.Options();
        options.ReadTimeout = TimeSpan.FromSeconds(0.5);
        options.MaxRetries = 10;
        options.StallTimeout = TimeSpan.FromSeconds(2);
        await using var session = new XetSession(options);

        var error = await Assert.ThrowsAsync<XetStallException>(() => session.DownloadAsync(emulator.Request(XetPath)).WaitAsync(Bound));

        var inner = Assert.IsType<XetReadTimeoutException>(error.InnerException);
        Assert.StartsWith("No data received for 0.5 s while reading the fetch of xorb", inner.Message);
        Assert.Contains("; the last attempt: No data received for 0.5 s", error.Message);
        Assert.True(emulator.Server.Log.For(EmulatorRoute.Xorb).Count < options.MaxRetries + 1, "the retries ran their course");
    }

    [Fact]
    public async Task A_slow_body_that_keeps_moving_is_neither_cut_nor_called_a_stall()
    {
        // Each xorb fetch takes seconds, many stall timeouts: its bytes count as they arrive, not when it completes.
        var file = ScenarioData.IncompressibleFile(XetPath, 1 << 20, seed: 73);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add("xorb:throughput=200K");
        var options = emulator.Options(cas: 1);
        options.ReadTimeout = TimeSpan.FromSeconds(1);
        options.StallTimeout = TimeSpan.FromSeconds(1);
        await using var session = new XetSession(options);

        var result = await session.DownloadAsync(emulator.Request(XetPath)).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.True(result.Elapsed > 3 * options.StallTimeout, $"took only {result.Elapsed}: the fault did not slow it down");
    }

    [Fact]
    public async Task A_plain_download_resumed_after_resets_for_longer_than_the_stall_timeout_completes()
    {
        // Two resets, each followed by a backoff of a second, twice the stall timeout: a reset is an answer, and the
        // retry policy, not the watchdog, bounds the wait that follows it.
        var file = ScenarioData.IncompressibleFile(PlainPath, 300_000, seed: 74);
        await using var emulator = await EmulatorFixture.StartAsync(new CommitOptions { XetMinSize = long.MaxValue }, file);
        var options = emulator.Options();
        options.RetryBaseDelay = options.MaxRetryDelay = TimeSpan.FromSeconds(1);
        options.StallTimeout = TimeSpan.FromMilliseconds(500);
        await using var session = new XetSession(options);
        var entry = await session.GetFileAsync(EmulatorFixture.Repo, "main", PlainPath);
        emulator.Server.Faults.Add("resolve:reset-after=50000,times=2");

        var result = await session.DownloadAsync(emulator.Request(PlainPath) with { Entry = entry }).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.Equal(2, emulator.Server.Faults.AppliedCount(emulator.Server.Faults.Rules[0]));
    }
}
