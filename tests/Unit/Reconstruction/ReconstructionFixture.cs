using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>Seeded files over an <see cref="InMemoryCas"/>, a scratch folder, and a way to run one file's pipeline.</summary>
internal sealed class ReconstructionFixture : IDisposable
{
    public ReconstructionFixture(int seed = 1)
    {
        Cas = new InMemoryCas(seed);
        Root = Path.Combine(Path.GetTempPath(), "xetps-engine-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public InMemoryCas Cas { get; }

    public string Root { get; }

    /// <summary>
    /// The seed incident's shape, small: <paramref name="terms"/> terms over <paramref name="xorbs"/> xorbs, term t
    /// using xorb t mod xorbs, so each xorb's ranges recur far apart in the file; some ranges repeat exactly (dedup).
    /// </summary>
    public (XetHash FileId, byte[] Bytes, List<XetHash> Xorbs) SeedShape(int seed, int xorbs = 12, int chunksPerXorb = 24,
        int terms = 80, int minChunk = 2048, int maxChunk = 12288, bool compress = false)
    {
        var random = new Random(seed);
        var hashes = new List<XetHash>();
        for (var x = 0; x < xorbs; x++)
        {
            var chunks = new List<byte[]>();
            for (var c = 0; c < chunksPerXorb; c++)
            {
                var chunk = new byte[random.Next(minChunk, maxChunk + 1)];
                if (compress)
                {
                    for (var i = 0; i < chunk.Length; i++) chunk[i] = (byte)((i / 64 + c + x) % 7);
                }
                else random.NextBytes(chunk);
                chunks.Add(chunk);
            }
            hashes.Add(Cas.AddXorb(chunks, compress));
        }
        var list = new List<(XetHash, ChunkRange)>();
        for (var t = 0; t < terms; t++)
        {
            var length = random.Next(1, 5);
            var start = random.Next(0, chunksPerXorb - length + 1);
            list.Add((hashes[t % xorbs], new ChunkRange(start, start + length)));
        }
        var (id, bytes) = Cas.AddFile(list);
        return (id, bytes, hashes);
    }

    public static XetSessionOptions Options(long buffer = 1 << 20, int cas = 2, long segment = 64 * 1024) => new()
    {
        BufferSize = buffer,
        CasConcurrency = cas,
        SegmentSize = segment,
        StallTimeout = TimeSpan.FromSeconds(30),
    };

    public string Destination(string name = "model.bin") => Path.Combine(Root, name);

    public Task<FileReconstructor.Outcome> RunAsync(SessionResources session, XetHash id, long size, string destination,
        CancellationToken ct = default) =>
        FileReconstructor.RunAsync(session, Cas, id, size, Path.GetFileName(destination), destination, null, ct);

    public static SessionResources Session(XetSessionOptions options)
    {
        options.Validate();
        return new SessionResources(options, null, CancellationToken.None);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A scratch folder left in /tmp is harmless.
        }
    }
}
