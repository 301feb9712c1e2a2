using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Cas;
using XetPs.Emulator;
using XetPs.Emulator.Store;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>
/// One emulator per test class, with a small repo <c>test/hubcas</c>: plain files, Xet files (one sharing separated
/// chunk ranges with another, so its xorb is fetched with several ranges in one request), nested folders, and a
/// private repo. Each test starts from a clean fault plan and request log (tests of a class run one at a time).
/// </summary>
public sealed class HubCasEmulatorFixture : IAsyncLifetime
{
    public static readonly RepoId Repo = new(RepoType.Model, "test/hubcas");
    public static readonly RepoId PrivateRepo = new(RepoType.Dataset, "test/private");

    public EmulatorServer Server { get; private set; } = null!;
    public string Commit { get; private set; } = null!;
    public byte[] A { get; } = Random(1 << 20, seed: 1);
    public byte[] B { get; private set; } = null!;
    public byte[] Text { get; } = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 4000).Select(i => $"line {i}: the quick brown fox {i * 7919 % 1000}\n")));
    public const string Readme = "# hubcas\nplain git file\n";

    public async Task InitializeAsync()
    {
        Server = await EmulatorServer.StartAsync(new EmulatorOptions { XetMinSize = 64 * 1024 });
        // B shares A's first and last stretches: its terms use two separated chunk ranges of A's xorb.
        B = A.Take(300_000).Concat(Random(200_000, seed: 2)).Concat(A.Skip(700_000)).ToArray();
        await Server.Store.CommitAsync(Repo, "main", new[] { RepoFile.FromBytes("weights/a.bin", A) });
        var commit = await Server.Store.CommitAsync(Repo, "main", new[]
        {
            RepoFile.FromText("README.md", Readme),
            RepoFile.FromText("config.json", "{\"hidden\":64}\n"),
            RepoFile.FromBytes("weights/b.bin", B),
            RepoFile.FromBytes("data/deep/corpus.txt", Text),
            RepoFile.FromBytes("data/tiny.csv", new byte[] { 1, 2, 3 }),
        });
        Commit = commit.Id;
        await Server.Store.CommitAsync(PrivateRepo, "main", new[] { RepoFile.FromText("secret.txt", "hidden\n") });
        Server.Store.CreateRepo(PrivateRepo, isPrivate: true);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>Clean faults and log; the clock back to real time.</summary>
    public void Reset()
    {
        Server.Faults.Clear();
        Server.Log.Clear();
        Server.Clock = TimeProvider.System;
    }

    /// <summary>
    /// The requests of a route once at least <paramref name="atLeast"/> are logged. The server logs a request when its
    /// response ends, which for a request the client abandoned (timeout, refused body) is a moment after the client
    /// moved on; bounded wait, then the count as it is.
    /// </summary>
    public async Task<int> RequestsAsync(EmulatorRoute route, int atLeast) => (await LogAsync(route, atLeast)).Count;

    /// <summary>The log entries of a route once at least <paramref name="atLeast"/> are there (see <see cref="RequestsAsync"/>).</summary>
    public async Task<IReadOnlyList<RequestLogEntry>> LogAsync(EmulatorRoute route, int atLeast)
    {
        for (var i = 0; i < 250 && Server.Log.For(route).Count < atLeast; i++) await Task.Delay(20);
        return Server.Log.For(route);
    }

    public static XetHttpOptions FastRetries(TimeSpan? readTimeout = null) => new()
    {
        MaxRetries = 3,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(20),
        ReadTimeout = readTimeout ?? TimeSpan.FromSeconds(10),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    public HubClient Hub(XetHttpTransport transport, string? token = EmulatorOptions.DefaultHubToken) =>
        new(transport, Server.BaseUrl, token);

    public CasClient Cas(XetHttpTransport transport, RepoId? repo = null) =>
        new(transport, new CasTokenProvider(Hub(transport), repo ?? Repo, "main"));

    public static byte[] Random(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>
    /// Rebuilds bytes [start, endInclusive] of a file through the client under test: one reconstruction query, every
    /// fetch once, chunks decoded and cut per term (§0 steps 3-6). Returns the bytes and the reconstruction.
    /// </summary>
    public static async Task<(byte[] Bytes, FileReconstruction Plan)> RebuildAsync(ICasReader cas, XetHash file, long start, long endInclusive,
        CancellationToken ct = default)
    {
        var plan = await cas.GetReconstructionAsync(file, start, endInclusive, ct);
        var raw = new Dictionary<(XetHash, int), (XorbRangeDescriptor Range, byte[] Bytes)>();
        foreach (var fetches in plan.Xorbs.Values)
        {
            foreach (var fetch in fetches)
            {
                var buffer = new byte[fetch.TotalLength];
                await cas.FetchXorbRangesAsync(fetch, buffer, ct);
                var at = 0;
                foreach (var range in fetch.Ranges)
                {
                    raw[(fetch.Xorb, range.Chunks.Start)] = (range, buffer.AsSpan(at, (int)range.Length).ToArray());
                    at += (int)range.Length;
                }
            }
        }
        var output = new MemoryStream();
        var chunk = new byte[XorbChunkHeader.MaxUncompressedLength];
        foreach (var term in plan.Terms)
        {
            var (range, bytes) = raw.Where(r => r.Key.Item1 == term.Xorb && r.Value.Range.Chunks.Contains(term.Chunks)).Select(r => r.Value).First();
            var offset = 0;
            var written = 0;
            for (var index = range.Chunks.Start; index < term.Chunks.End; index++)
            {
                var n = XorbChunkCodec.Decode(bytes.AsSpan(offset), chunk, out var consumed);
                offset += consumed;
                if (index < term.Chunks.Start) continue;
                output.Write(chunk, 0, n);
                written += n;
            }
            Assert.Equal(term.UnpackedLength, written);
        }
        var all = output.ToArray();
        var length = (int)Math.Min(endInclusive - start + 1, all.Length - plan.OffsetIntoFirstRange);
        return (all.AsSpan((int)plan.OffsetIntoFirstRange, length).ToArray(), plan);
    }
}

/// <summary>Collects log lines so a test can read what was logged (retry delays, messages that must not hold secrets).</summary>
public sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();
    public ConcurrentQueue<IReadOnlyList<KeyValuePair<string, object?>>> States { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Lines.Enqueue(formatter(state, exception));
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values) States.Enqueue(values);
    }
}

/// <summary>A clock moved by hand, so URL and token expiry are tested without sleeping.</summary>
public sealed class ShiftedClock(TimeSpan shift) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
}
