using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Format;
using XetPs.Reconstruction;
using Xunit;

namespace XetPs.Tests.Reconstruction;

/// <summary>Xorb bytes damaged in transit: fetched again with fresh URLs a bounded number of times, never accepted.</summary>
public class XorbRefetchTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string Path = "notes/corpus.txt";

    /// <summary>Compressible text of one xorb in one segment: the whole file is one load of one range, so every
    /// corrupted answer hits that load, and byte 0 of an answer is its first chunk header.</summary>
    private static RepoFile Corpus() => ScenarioData.TextFile(Path, 512 * 1024, seed: 8);

    [Theory]
    [InlineData("xorb:corrupt-at=0,times=1", 1)] // the header's version byte flipped
    [InlineData("xorb:hostile=chunk-header,times=1", 1)] // lengths past the limits
    [InlineData("xorb:corrupt-at=0,times=2", 2)] // the refetch damaged too
    public async Task A_xorb_that_does_not_decode_is_fetched_again_with_fresh_urls(string fault, int damaged)
    {
        // A flaky CDN costs a refetch, not the job: each refetch asks the reconstruction again for fresh URLs (the
        // same refresh a 403 takes) and is reported at Warning, which -Verbose shows, naming the xorb and the cause.
        var file = Corpus();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add(fault);
        var logs = new ConcurrentQueue<(XetLogLevel Level, string Text)>();
        await using var session = new XetSession(emulator.Options(), (level, text) => logs.Enqueue((level, text)));

        var result = await session.DownloadAsync(emulator.Request(Path)).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        var xorbRequests = emulator.Server.Log.For(EmulatorRoute.Xorb);
        Assert.Equal(1 + damaged, xorbRequests.Count);
        Assert.Equal(1 + damaged, emulator.Server.Log.For(EmulatorRoute.Reconstruction).Count);
        var xorb = xorbRequests[0].Path.Split('?')[0].Split('/').Last();
        var refetches = logs.Where(l => l.Level == XetLogLevel.Warning && l.Text.Contains("fresh URLs")).ToList();
        Assert.Equal(damaged, refetches.Count);
        Assert.All(refetches, l => Assert.Contains($"Xorb {xorb} did not decode (", l.Text));
        Assert.All(refetches, l => Assert.Contains("chunk", l.Text)); // the cause: what in the chunk did not check
    }

    [Fact]
    public async Task A_xorb_damaged_on_every_fetch_fails_after_its_refetches_and_leaves_nothing()
    {
        var file = Corpus();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add("xorb:corrupt-at=0");
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path);

        var error = await Record.ExceptionAsync(() => session.DownloadAsync(request).WaitAsync(Bound));

        var damaged = Assert.IsType<XorbFormatException>(error);
        Assert.Contains("version 255", damaged.Message);
        Assert.Equal(1 + 2, emulator.Server.Log.For(EmulatorRoute.Xorb).Count); // bounded: two refetches, then final
        Assert.False(File.Exists(request.DestinationPath));
        var cache = System.IO.Path.Combine(".cache", "xetps"); // a partial kept for a resume is not at the destination
        Assert.DoesNotContain(Directory.EnumerateFiles(emulator.Root, "*", SearchOption.AllDirectories), f => !f.Contains(cache, StringComparison.Ordinal));
        Assert.Equal(0, session.Resources.Registry.LoadsRunning);
    }
}
