using System;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using XetPs.Format;

namespace XetPs.Emulator.Store;

/// <summary>What the server needs to know of a stored xorb without reading it: chunk boundaries (serialized and
/// unpacked, cumulative END offsets as in the footer) and chunk hashes.</summary>
internal sealed class XorbMeta
{
    public XorbMeta(XetHash hash, int chunkDataLength, uint[] boundaries, uint[] unpacked, XetHash[] chunkHashes)
    {
        Hash = hash;
        ChunkDataLength = chunkDataLength;
        ChunkBoundaryOffsets = boundaries;
        UnpackedChunkOffsets = unpacked;
        ChunkHashes = chunkHashes;
    }

    public XetHash Hash { get; }
    public int ChunkDataLength { get; }
    public uint[] ChunkBoundaryOffsets { get; }
    public uint[] UnpackedChunkOffsets { get; }
    public XetHash[] ChunkHashes { get; }
    public int ChunkCount => ChunkHashes.Length;

    /// <summary>Serialized start of chunk <paramref name="index"/>.</summary>
    public long ByteStart(int index) => index == 0 ? 0 : ChunkBoundaryOffsets[index - 1];

    /// <summary>Serialized end (exclusive) of chunk <paramref name="index"/> - 1, i.e. of the range [.., index).</summary>
    public long ByteEnd(int endExclusive) => endExclusive == 0 ? 0 : ChunkBoundaryOffsets[endExclusive - 1];

    public long UnpackedStart(int index) => index == 0 ? 0 : UnpackedChunkOffsets[index - 1];
    public long UnpackedEnd(int endExclusive) => endExclusive == 0 ? 0 : UnpackedChunkOffsets[endExclusive - 1];
    public int UnpackedLength(int index) => (int)(UnpackedEnd(index + 1) - UnpackedStart(index));
}

/// <summary>
/// The content-addressed xorb files of the store: <c>xorbs/{hash}.xorb</c> (chunk series + V1 footer) beside a
/// small <c>{hash}.meta</c> sidecar with the offsets, so answering a reconstruction never reads a xorb. A generated
/// xorb (<see cref="GeneratedXorb"/>) has a <c>{hash}.gen</c> sidecar instead of its bytes. Writes are atomic (temp
/// file, then rename): a crashed build leaves no half xorb under a real name.
/// </summary>
internal sealed class XorbCatalog
{
    private static readonly byte[] Magic = "XEMETA1\0"u8.ToArray();
    private readonly string _dir;
    private readonly ConcurrentDictionary<XetHash, XorbMeta> _metas = new();
    private readonly ConcurrentDictionary<XetHash, GeneratedXorb?> _generators = new();

    public XorbCatalog(string storeDirectory)
    {
        _dir = Path.Combine(storeDirectory, "xorbs");
        Directory.CreateDirectory(_dir);
    }

    public string PathOf(XetHash hash) => Path.Combine(_dir, hash + ".xorb");

    public bool Contains(XetHash hash) => _metas.ContainsKey(hash) || File.Exists(Path.Combine(_dir, hash + ".meta"));

    /// <summary>Stores a built xorb (no-op when already there) and returns its meta.</summary>
    public XorbMeta Put(SerializedXorb xorb)
    {
        var meta = new XorbMeta(xorb.Hash, xorb.ChunkDataLength, ToArray(xorb.ChunkBoundaryOffsets), ToArray(xorb.UnpackedChunkOffsets), ToArray(xorb.ChunkHashes));
        if (!Contains(xorb.Hash))
        {
            AtomicFile.Write(PathOf(xorb.Hash), xorb.Bytes);
            AtomicFile.Write(Path.Combine(_dir, xorb.Hash + ".meta"), Encode(meta));
        }
        _metas[xorb.Hash] = meta;
        return meta;
    }

    /// <summary>Registers a generated xorb and returns its meta: its chunks are hashed (the hash names the xorb), then its
    /// generator and meta are stored unless they already are.</summary>
    public XorbMeta PutGenerated(GeneratedXorb spec)
    {
        var meta = spec.Describe();
        if (!Contains(meta.Hash))
        {
            // The generator first: a meta without it would name a xorb with no bytes.
            AtomicFile.Write(Path.Combine(_dir, meta.Hash + ".gen"), spec.Encode());
            AtomicFile.Write(Path.Combine(_dir, meta.Hash + ".meta"), Encode(meta));
        }
        _metas[meta.Hash] = meta;
        _generators[meta.Hash] = spec;
        return meta;
    }

    /// <summary>The stored bytes of a xorb, for reading ranges: its file, or its generator.</summary>
    public XorbBytes Open(XetHash hash)
    {
        var generator = _generators.GetOrAdd(hash, h =>
        {
            string gen = Path.Combine(_dir, h + ".gen");
            return File.Exists(gen) ? GeneratedXorb.Decode(h, File.ReadAllBytes(gen)) : null;
        });
        return generator is not null ? new GeneratedXorbBytes(generator)
            : new FileXorbBytes(File.OpenHandle(PathOf(hash), FileMode.Open, FileAccess.Read, FileShare.Read));
    }

    /// <summary>The meta of a stored xorb; <see cref="FileNotFoundException"/> naming the hash when it is missing.</summary>
    public XorbMeta Get(XetHash hash)
    {
        if (_metas.TryGetValue(hash, out var meta)) return meta;
        string path = Path.Combine(_dir, hash + ".meta");
        if (!File.Exists(path)) throw new FileNotFoundException($"The store has no xorb {hash} (missing '{path}'); the store is incomplete.", path);
        meta = Decode(hash, File.ReadAllBytes(path));
        _metas[hash] = meta;
        return meta;
    }

    private static byte[] Encode(XorbMeta m)
    {
        int n = m.ChunkCount;
        var bytes = new byte[8 + 8 + 8 * n + XetHash.Size * n];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), n);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), m.ChunkDataLength);
        int p = 16;
        foreach (uint v in m.ChunkBoundaryOffsets) { BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(p), v); p += 4; }
        foreach (uint v in m.UnpackedChunkOffsets) { BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(p), v); p += 4; }
        foreach (var h in m.ChunkHashes) { h.CopyTo(bytes.AsSpan(p)); p += XetHash.Size; }
        return bytes;
    }

    private static XorbMeta Decode(XetHash hash, byte[] bytes)
    {
        if (bytes.Length < 16 || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new InvalidDataException($"The meta file of xorb {hash} is not an emulator xorb meta.");
        int n = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        int dataLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        if (n < 0 || bytes.Length != 16 + 8L * n + XetHash.Size * (long)n)
            throw new InvalidDataException($"The meta file of xorb {hash} is truncated ({bytes.Length} bytes for {n} chunks).");
        var b = new uint[n]; var u = new uint[n]; var h = new XetHash[n];
        int p = 16;
        for (int i = 0; i < n; i++, p += 4) b[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(p));
        for (int i = 0; i < n; i++, p += 4) u[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(p));
        for (int i = 0; i < n; i++, p += XetHash.Size) h[i] = new XetHash(bytes.AsSpan(p, XetHash.Size));
        return new XorbMeta(hash, dataLength, b, u, h);
    }

    private static T[] ToArray<T>(IReadOnlyList<T> list)
    {
        var a = new T[list.Count];
        for (int i = 0; i < a.Length; i++) a[i] = list[i];
        return a;
    }
}

/// <summary>A stored xorb's bytes, read by offset (<see cref="RandomAccess"/> semantics: fewer bytes only at the end).</summary>
internal abstract class XorbBytes : IDisposable
{
    /// <summary>Bytes that can be read: the whole file, or a generated xorb's chunk data (it has no footer).</summary>
    public abstract long Length { get; }

    public abstract int Read(Span<byte> destination, long offset);

    public virtual void Dispose() { }
}

internal sealed class FileXorbBytes(Microsoft.Win32.SafeHandles.SafeFileHandle handle) : XorbBytes
{
    public override long Length => RandomAccess.GetLength(handle);

    public override int Read(Span<byte> destination, long offset) => RandomAccess.Read(handle, destination, offset);

    public override void Dispose() => handle.Dispose();
}

internal sealed class GeneratedXorbBytes(GeneratedXorb generator) : XorbBytes
{
    private readonly byte[] _scratch = new byte[Scenario.GeneratedStream.BlockSize];

    public override long Length => generator.ChunkDataLength;

    public override int Read(Span<byte> destination, long offset) => generator.Read(destination, offset, _scratch);
}

/// <summary>Write-then-rename, so readers (and other processes sharing the store) never see half a file.</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        string tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            fs.Write(bytes);
        File.Move(tmp, path, overwrite: true);
    }
}
