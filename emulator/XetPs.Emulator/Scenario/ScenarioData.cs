using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using XetPs.Emulator.Store;


namespace XetPs.Emulator.Scenario;

/// <summary>
/// Generators of repo content, each a pure function of its parameters and seed (streams of any size in constant
/// memory). Files carry a cache key of those parameters, so a store builds a given generated file once and reuses it.
/// </summary>
public static class ScenarioData
{
    /// <summary>Random bytes (SplitMix64): LZ4 cannot shrink them, so chunks are stored as None.</summary>
    public static Stream Incompressible(long size, int seed) => new GeneratedStream(size, seed, FillRandom);

    /// <summary>Little-endian float32 weights of small magnitude: byte grouping pays off, so chunks are BG4.</summary>
    public static Stream FloatLike(long size, int seed) => new GeneratedStream(size, seed, FillFloats);

    /// <summary>English-like text (words from a small vocabulary): LZ4 compresses it.</summary>
    public static Stream Text(long size, int seed) => new GeneratedStream(size, seed, FillText);

    /// <summary>Content that repeats a few 96 KiB blocks in a seeded order: most chunks are duplicates of earlier ones.</summary>
    public static Stream DedupHeavy(long size, int seed, int distinctBlocks = 4)
    {
        if (distinctBlocks < 1) throw new ArgumentOutOfRangeException(nameof(distinctBlocks), distinctBlocks, "At least one distinct block.");
        return new GeneratedStream(size, seed, (s, index, block) =>
        {
            // The repeated unit is 96 KiB (not a multiple of the 64 KiB generator block), so compose from unit
            // offsets: byte p belongs to unit p / 96K, whose content is distinct block (seeded pick) number `which`.
            const int unit = 96 * 1024;
            long start = index * GeneratedStream.BlockSize;
            for (int i = 0; i < block.Length;)
            {
                long p = start + i;
                long u = p / unit;
                int which = (int)(Mix((ulong)s * 31 + (ulong)u) % (ulong)distinctBlocks);
                long inUnit = p % unit;
                ulong word = Mix(((ulong)which << 40) ^ (ulong)(inUnit / 8) ^ ((ulong)(uint)s << 20));
                for (int k = (int)(inUnit % 8); k < 8 && i < block.Length; k++, i++) block[i] = (byte)(word >> (8 * k));
            }
        });
    }

    public static RepoFile IncompressibleFile(string path, long size, int seed) =>
        RepoFile.FromStream(path, () => Incompressible(size, seed), Key("incompressible", size, seed));

    public static RepoFile FloatLikeFile(string path, long size, int seed) =>
        RepoFile.FromStream(path, () => FloatLike(size, seed), Key("floats", size, seed));

    public static RepoFile TextFile(string path, long size, int seed) =>
        RepoFile.FromStream(path, () => Text(size, seed), Key("text", size, seed));

    public static RepoFile DedupHeavyFile(string path, long size, int seed, int distinctBlocks = 4) =>
        RepoFile.FromStream(path, () => DedupHeavy(size, seed, distinctBlocks), Key("dedup" + distinctBlocks, size, seed));

    /// <summary>A safetensors-like file: 8-byte header length, a JSON header naming one F32 tensor, float-like data.</summary>
    public static RepoFile SafetensorsFile(string path, long dataSize, int seed)
    {
        long floats = dataSize / 4;
        string header = "{\"weight\":{\"dtype\":\"F32\",\"shape\":[" + floats.ToString(CultureInfo.InvariantCulture) +
                        "],\"data_offsets\":[0," + (floats * 4).ToString(CultureInfo.InvariantCulture) + "]},\"__metadata__\":{\"format\":\"pt\"}}";
        byte[] head = Encoding.UTF8.GetBytes(header);
        byte[] prefix = new byte[8 + head.Length];
        BinaryPrimitives.WriteInt64LittleEndian(prefix, head.Length);
        head.CopyTo(prefix, 8);
        return RepoFile.FromStream(path, () => new ConcatStream(new MemoryStream(prefix, false), FloatLike(floats * 4, seed)), Key("safetensors", dataSize, seed));
    }

    /// <summary><paramref name="count"/> small files (text or random) under <paramref name="folder"/>, sizes in [minSize, maxSize].</summary>
    public static IReadOnlyList<RepoFile> ManySmallFiles(string folder, int count, int minSize, int maxSize, int seed)
    {
        if (count < 0 || minSize < 0 || maxSize < minSize) throw new ArgumentOutOfRangeException(nameof(count), "Need count >= 0 and 0 <= minSize <= maxSize.");
        var files = new List<RepoFile>(count);
        for (int i = 0; i < count; i++)
        {
            ulong r = Mix((ulong)seed * 1_000_003 + (ulong)i);
            long size = minSize + (long)(r % (ulong)(maxSize - minSize + 1));
            int fileSeed = unchecked((int)(r >> 32));
            string name = $"{folder.TrimEnd('/')}/f{i:D5}" + (i % 2 == 0 ? ".txt" : ".bin");
            files.Add(i % 2 == 0 ? TextFile(name, size, fileSeed) : IncompressibleFile(name, size, fileSeed));
        }
        return files;
    }

    /// <summary>The seed incident's shape (see <see cref="SeedIncident"/>) as a repo file.</summary>
    public static RepoFile SeedIncidentFile(string path, SeedIncident shape) =>
        RepoFile.Built(path, shape.CacheKey, shape.BuildAsync);

    internal static string Key(string kind, long size, int seed) =>
        $"gen:{kind}:{size.ToString(CultureInfo.InvariantCulture)}:{seed.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>SplitMix64 finalizer of one value.</summary>
    internal static ulong Mix(ulong x)
    {
        ulong z = x + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    internal static void FillRandom(int seed, long index, Span<byte> block)
    {
        ulong state = Mix(((ulong)(uint)seed << 32) ^ (ulong)index);
        for (int i = 0; i + 8 <= block.Length; i += 8)
        {
            state += 0x9E3779B97F4A7C15UL;
            BinaryPrimitives.WriteUInt64LittleEndian(block.Slice(i), Mix(state));
        }
    }

    internal static void FillFloats(int seed, long index, Span<byte> block)
    {
        ulong state = Mix(((ulong)(uint)seed << 32) ^ (ulong)index ^ 0xF10A7UL);
        for (int i = 0; i + 4 <= block.Length; i += 4)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong r = Mix(state);
            // Sum of four uniforms ~ a bell curve; small weights share exponent bytes, which BG4 groups together.
            double g = ((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48)) / 65536.0 - 2.0;
            BinaryPrimitives.WriteSingleLittleEndian(block.Slice(i), (float)(g * 0.02));
        }
    }

    private static readonly string[] Words =
    {
        "the", "chunk", "xorb", "file", "hash", "range", "term", "model", "weights", "download", "server", "token",
        "of", "and", "to", "in", "a", "is", "that", "for", "it", "with", "as", "on", "be", "at", "by", "this",
        "reconstruction", "content", "defined", "compression", "dedup", "merkle", "tree", "repository", "branch",
    };

    internal static void FillText(int seed, long index, Span<byte> block)
    {
        ulong state = Mix(((ulong)(uint)seed << 32) ^ (ulong)index ^ 0x7E47UL);
        int i = 0;
        while (i < block.Length)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong r = Mix(state);
            string w = Words[(int)(r % (ulong)Words.Length)];
            for (int k = 0; k < w.Length && i < block.Length; k++) block[i++] = (byte)w[k];
            if (i < block.Length) block[i++] = (byte)((r >> 40) % 13 == 0 ? '\n' : ' ');
        }
    }

    /// <summary>Reads one stream to its end, then the next.</summary>
    private sealed class ConcatStream : Stream
    {
        private readonly Stream _first, _second;
        private bool _onSecond;

        public ConcatStream(Stream first, Stream second) { _first = first; _second = second; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (!_onSecond)
            {
                int n = _first.Read(buffer);
                if (n > 0) return n;
                _onSecond = true;
            }
            return _second.Read(buffer);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) { _first.Dispose(); _second.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
