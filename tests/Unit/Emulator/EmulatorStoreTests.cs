using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;

namespace XetPs.Tests.Emulator;

/// <summary>The store: reused across runs, generated content built once, dedup across files and revisions.</summary>
public sealed class EmulatorStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "xetps-emulator-store-" + Guid.NewGuid().ToString("N"));
    private static readonly RepoId Repo = RepoId.Parse("org/store");

    [Fact]
    public async Task A_store_is_reused_by_the_next_server()
    {
        RepoCommit commit;
        await using (var first = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir, XetMinSize = 0 }))
            commit = await first.Store.CommitAsync(Repo, "main", new[] { ScenarioData.TextFile("a.txt", 300_000, 1) });
        await using var second = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir });
        Assert.Equal(commit.Id, second.Store.Resolve(Repo, "main")!.Id);
        using var reader = new IndependentReader(second.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/store", "main");
        byte[] got = await reader.ReadAsync(cas, token, commit.Files.Single().XetHash!);
        using var expected = new MemoryStream();
        ScenarioData.Text(300_000, 1).CopyTo(expected);
        Assert.Equal(expected.ToArray(), got);
    }

    [Fact]
    public async Task Generated_content_is_read_once_per_store()
    {
        int opened = 0;
        RepoFile Generated() => RepoFile.FromStream("big.bin", () => { opened++; return ScenarioData.Incompressible(500_000, 9); }, cacheKey: "test:big:9");
        await using (var first = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir, XetMinSize = 0 }))
            await first.Store.CommitAsync(Repo, "main", new[] { Generated() });
        await using var second = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir, XetMinSize = 0 });
        var again = await second.Store.CommitAsync(Repo, "other", new[] { Generated() });
        Assert.Equal(1, opened);
        Assert.Equal(500_000, again.Files.Single().Size);
    }

    [Fact]
    public async Task Chunks_are_stored_once_across_files_and_revisions()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir, XetMinSize = 0 });
        byte[] data = new byte[400_000];
        new Random(3).NextBytes(data);
        await server.Store.CommitAsync(Repo, "main", new[] { RepoFile.FromBytes("a.bin", data) });
        int afterFirst = server.Store.ChunkCount;
        // Same bytes under another name, and on another branch: no new chunks.
        await server.Store.CommitAsync(Repo, "main", new[] { RepoFile.FromBytes("copy.bin", data) });
        await server.Store.CommitAsync(Repo, "v2", new[] { RepoFile.FromBytes("b.bin", data) }, new CommitOptions { BranchFrom = "main" });
        Assert.Equal(afterFirst, server.Store.ChunkCount);
        // An edit in the middle adds only the chunks around it.
        byte[] edited = (byte[])data.Clone();
        edited[200_000] ^= 1;
        await server.Store.CommitAsync(Repo, "v2", new[] { RepoFile.FromBytes("b.bin", edited) });
        Assert.InRange(server.Store.ChunkCount - afterFirst, 1, 2);
        var v2 = server.Store.Resolve(Repo, "v2")!;
        Assert.Equal(new[] { "a.bin", "b.bin", "copy.bin" }, v2.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task Small_files_stay_plain_unless_forced_into_xet()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir, XetMinSize = 1000 });
        var commit = await server.Store.CommitAsync(Repo, "main", new[]
        {
            RepoFile.FromBytes("small.txt", new byte[999]),
            RepoFile.FromBytes("big.bin", new byte[1000]),
            RepoFile.FromBytes("forced.txt", new byte[10]).AsXet(),
            RepoFile.FromStream("unknown-length.bin", () => new NonSeekable(new byte[5000])),
        });
        bool IsXet(string path) => commit.Files.Single(f => f.Path == path).IsXet;
        Assert.Equal((false, true, true, true), (IsXet("small.txt"), IsXet("big.bin"), IsXet("forced.txt"), IsXet("unknown-length.bin")));
    }

    [Fact]
    public async Task Deleting_and_replacing_files_makes_a_new_snapshot()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir });
        var first = await server.Store.CommitAsync(Repo, "main", new[] { RepoFile.FromText("a.txt", "a"), RepoFile.FromText("b.txt", "b") });
        var options = new CommitOptions { Title = "Drop a" };
        options.Delete.Add("a.txt");
        var second = await server.Store.CommitAsync(Repo, "main", Array.Empty<RepoFile>(), options);
        Assert.Equal(first.Id, second.Parent);
        Assert.Equal(new[] { "b.txt" }, second.Files.Select(f => f.Path));
        Assert.Equal(2, server.Store.Resolve(Repo, first.Id)!.Files.Count);
        Assert.Throws<ArgumentException>(() => RepoFile.FromText("../x", "no"));
    }

    [Fact]
    public async Task A_store_missing_a_xorb_answers_500_naming_it()
    {
        RepoCommit commit;
        await using (var first = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir, XetMinSize = 0 }))
            commit = await first.Store.CommitAsync(Repo, "main", new[] { ScenarioData.IncompressibleFile("a.bin", 100_000, 4) });
        foreach (string meta in Directory.GetFiles(Path.Combine(_dir, "xorbs"), "*.meta")) File.Delete(meta);
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir });
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/store", "main");
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{cas}/v2/reconstructions/{commit.Files.Single().XetHash}");
        req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var resp = await reader.Http.SendAsync(req);
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, resp.StatusCode);
        Assert.Contains("has no xorb", await resp.Content.ReadAsStringAsync());
    }

    private sealed class NonSeekable : MemoryStream
    {
        public NonSeekable(byte[] b) : base(b) { }
        public override bool CanSeek => false;
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
