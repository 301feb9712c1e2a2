using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Tests.Emulator;

/// <summary>
/// Generated xorbs: the seed incident at a size the disk could not hold twice (its xorbs and the client's copy),
/// served from chunk hashes and a generator instead of stored bytes, and the same xorbs a written store holds.
/// </summary>
public sealed class GeneratedXorbTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "xetps-generated-xorbs-" + Guid.NewGuid().ToString("N"));
    private static readonly RepoId Repo = RepoId.Parse("org/soak");

    [Fact]
    public void A_generated_xorb_reads_as_the_chunk_data_XorbBuilder_writes_for_its_chunks()
    {
        var spec = new GeneratedXorb(Seed: 5, Index: 3, ChunkCount: 7, ChunkSize: 70_001); // 70,001: not a generator block multiple
        var raw = new byte[spec.ChunkSize];
        var scratch = new byte[GeneratedStream.BlockSize];
        var builder = new XorbBuilder();
        for (int k = 0; k < spec.ChunkCount; k++)
        {
            spec.FillChunk(k, raw, scratch);
            Assert.True(builder.TryAdd(raw, CompressionScheme.None));
        }
        var built = builder.Build();

        var meta = spec.Describe();
        Assert.Equal(built.Hash, meta.Hash);
        Assert.Equal(built.ChunkHashes, meta.ChunkHashes);
        Assert.Equal(built.ChunkDataLength, spec.ChunkDataLength);
        // Read in uneven pieces, so reads start and end inside headers, inside chunks and across generator blocks.
        var got = new byte[spec.ChunkDataLength];
        int[] pieces = [1, 7, 8, 9, 65_536 + 3, 100_000];
        for (int i = 0, offset = 0; offset < got.Length; i++)
        {
            int want = Math.Min(pieces[i % pieces.Length], got.Length - offset);
            Assert.Equal(want, spec.Read(got.AsSpan(offset, want), offset, scratch));
            offset += want;
        }
        Assert.Equal(built.Bytes.AsSpan(0, built.ChunkDataLength).ToArray(), got);
        Assert.Equal(0, spec.Read(new byte[16], spec.ChunkDataLength, scratch));
    }

    [Fact]
    public void A_generated_xorb_larger_than_the_format_allows_is_refused()
    {
        var tooMany = new GeneratedXorb(1, 0, XorbBuilder.MaxXorbChunks + 1, 64);
        var tooLarge = new GeneratedXorb(1, 0, 1000, XorbChunkHeader.MaxUncompressedLength); // 125 MiB of chunk data

        Assert.Throws<ArgumentOutOfRangeException>(() => tooMany.Describe());
        Assert.Throws<ArgumentOutOfRangeException>(() => tooLarge.Describe());
    }

    [Fact]
    public async Task The_generated_seed_incident_keeps_no_xorb_bytes_and_serves_its_file_after_a_restart()
    {
        var shape = new SeedIncident { FileSize = 4L << 20, Seed = 7, Generated = true };
        StoredFile stored;
        await using (var first = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir }))
            stored = (await first.Store.CommitAsync(Repo, "main", [ScenarioData.SeedIncidentFile("seed.bin", shape)])).Files.Single();

        var xorbs = Path.Combine(_dir, "xorbs");
        Assert.Empty(Directory.GetFiles(xorbs, "*.xorb"));
        Assert.Equal(shape.XorbCount, Directory.GetFiles(xorbs, "*.gen").Length);

        // A new server over the same store knows the xorbs from their sidecars alone.
        await using var second = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = _dir });
        using var reader = new IndependentReader(second.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/soak", "main");
        byte[] got = await reader.ReadAsync(cas, token, stored.XetHash!);

        // Expected: the terms' chunks, each the generator's random bytes (every xorb random in a generated shape).
        using var expected = new MemoryStream();
        int c = shape.EffectiveChunksPerTerm;
        var raw = new byte[shape.ChunkSize];
        var scratch = new byte[GeneratedStream.BlockSize];
        for (int t = 0; t < shape.TermCount; t++)
        {
            var (x, start, end) = shape.TermAt(t);
            var spec = new GeneratedXorb(shape.Seed, x, 2 * c + 1, shape.ChunkSize);
            for (int k = start; k < end; k++)
            {
                spec.FillChunk(k, raw, scratch);
                expected.Write(raw);
            }
        }
        Assert.Equal(shape.ActualFileSize, got.Length);
        Assert.Equal(expected.ToArray(), got);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(got)).ToLowerInvariant(), stored.Sha256);
    }

    [Fact]
    public async Task The_random_half_of_a_written_seed_incident_is_the_same_xorbs_a_generated_one_serves()
    {
        // Same shape and seed, written and generated: the random (odd) xorbs hash alike, so the generated shape is
        // the written one with its float half made random, not another scenario.
        var written = Path.Combine(_dir, "written");
        var generated = Path.Combine(_dir, "generated");
        foreach (var (dir, isGenerated) in new[] { (written, false), (generated, true) })
        {
            await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = dir });
            await server.Store.CommitAsync(Repo, "main",
                [ScenarioData.SeedIncidentFile("seed.bin", new SeedIncident { FileSize = 4L << 20, Seed = 7, Generated = isGenerated })]);
        }
        static string[] Xorbs(string dir) => Directory.GetFiles(Path.Combine(dir, "xorbs"), "*.meta").Select(Path.GetFileNameWithoutExtension).ToArray()!;

        var common = Xorbs(written).Intersect(Xorbs(generated)).Count();
        Assert.Equal(932 / 2, common);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
