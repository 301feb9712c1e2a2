using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Tests.Emulator;

/// <summary>
/// One emulator with small repos for a test class: every compression scheme, float-like/text/random data, a
/// dedup-heavy file, an empty Xet file, a plain file, two branches, a private repo, many small files, and the seed
/// incident's shape at a small size. Tests that change options or faults start their own server over the same store.
/// </summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public static readonly RepoId Formats = RepoId.Parse("org/formats");
    public static readonly RepoId Private = RepoId.Parse("org/private");
    public static readonly RepoId Many = RepoId.Parse("datasets/org/many");
    public static readonly RepoId Incident = RepoId.Parse("org/incident");
    public static readonly SeedIncident IncidentShape = new() { FileSize = 2366L * 4 * 600, ChunksPerTerm = 4, Seed = 7 };

    public string StoreDirectory { get; } = Path.Combine(Path.GetTempPath(), "xetps-emulator-tests-" + Guid.NewGuid().ToString("N"));
    public EmulatorServer Server { get; private set; } = null!;
    public RepoCommit Main { get; private set; } = null!;
    public RepoCommit Dev { get; private set; } = null!;
    public RepoCommit IncidentCommit { get; private set; } = null!;

    /// <summary>Content of every committed file by path, to compare with what a reader rebuilds.</summary>
    public Dictionary<string, byte[]> Content { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        Server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = StoreDirectory, XetMinSize = 64 * 1024 });
        var store = Server.Store;
        byte[] Read(Stream s) { using (s) { var ms = new MemoryStream(); s.CopyTo(ms); return ms.ToArray(); } }
        RepoFile Bytes(string path, byte[] data) { Content[path] = data; return RepoFile.FromBytes(path, data); }

        Main = await store.CommitAsync(Formats, "main", new[]
        {
            Bytes("random.bin", Read(ScenarioData.Incompressible(700_000, 1))),
            Bytes("floats.bin", Read(ScenarioData.FloatLike(700_000, 2))),
            Bytes("text/corpus.txt", Read(ScenarioData.Text(700_000, 3))),
            Bytes("dedup.bin", Read(ScenarioData.DedupHeavy(3_000_000, 4))),
            Bytes("small.json", "{\"plain\": true}"u8.ToArray()),
            Bytes("empty.bin", Array.Empty<byte>()).AsXet(),
        });
        // Every scheme forced, on content no other file shares (so dedup cannot reuse another scheme's chunks).
        foreach (var (path, scheme, seed) in new[] { ("schemes/none.bin", CompressionScheme.None, 21), ("schemes/lz4.txt", CompressionScheme.Lz4, 22), ("schemes/bg4.bin", CompressionScheme.ByteGrouping4Lz4, 23) })
        {
            byte[] data = scheme == CompressionScheme.Lz4 ? Read(ScenarioData.Text(400_000, seed)) : Read(ScenarioData.FloatLike(400_000, seed));
            Main = await store.CommitAsync(Formats, "main", new[] { Bytes(path, data) }, new CommitOptions { Compression = scheme });
        }
        byte[] devFloats = Read(ScenarioData.FloatLike(500_000, 99));
        Dev = await store.CommitAsync(Formats, "dev", new[] { RepoFile.FromBytes("floats.bin", devFloats) }, new CommitOptions { BranchFrom = "main", Title = "Dev floats" });
        Content["dev:floats.bin"] = devFloats;

        store.CreateRepo(Private, isPrivate: true);
        byte[] secret = Read(ScenarioData.Incompressible(200_000, 5));
        Content["private:secret.bin"] = secret;
        await store.CommitAsync(Private, "main", new[] { RepoFile.FromBytes("secret.bin", secret) });

        await store.CommitAsync(Many, "main", ScenarioData.ManySmallFiles("files", 10, 100, 2000, seed: 8).Append(RepoFile.FromText("README.md", "many")));

        IncidentCommit = await store.CommitAsync(Incident, "main", new[] { ScenarioData.SeedIncidentFile("incident.bin", IncidentShape) });
    }

    /// <summary>Another server over the same store, with its own options (faults, lifetimes, page size).</summary>
    public Task<EmulatorServer> StartAnotherAsync(Action<EmulatorOptions>? configure = null)
    {
        var o = new EmulatorOptions { StoreDirectory = StoreDirectory, XetMinSize = 64 * 1024 };
        configure?.Invoke(o);
        return EmulatorServer.StartAsync(o);
    }

    public StoredFile File(RepoCommit commit, string path) => commit.Files.Single(f => f.Path == path);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(StoreDirectory, recursive: true); } catch (IOException) { }
    }
}
