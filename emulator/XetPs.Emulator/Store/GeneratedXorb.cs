using System;
using System.Buffers.Binary;
using System.IO;
using XetPs.Emulator.Scenario;
using XetPs.Format;

namespace XetPs.Emulator.Store;

/// <summary>
/// A xorb whose bytes are never written: <see cref="ChunkCount"/> chunks of <see cref="ChunkSize"/> random bytes,
/// chunk k seeded by (<see cref="Seed"/>, <see cref="Index"/>, k) exactly as <see cref="SeedIncident"/> seeds its
/// random xorbs, each stored as None. Any byte range is computed when it is asked for, in constant memory, so the
/// store can serve a file far larger than the disk could hold twice (its xorbs and the client's copy): the seed
/// incident at its reported 48.5 GB. Invariant: <see cref="Read"/> returns, byte for byte, the chunk data that
/// <see cref="XorbBuilder"/> writes for the same chunks with <see cref="CompressionScheme.None"/>. The footer is not
/// generated: a download reads chunk ranges only, and reading past the chunk data is an error.
/// </summary>
internal sealed record GeneratedXorb(int Seed, int Index, int ChunkCount, int ChunkSize)
{
    private const int Block = GeneratedStream.BlockSize;

    public int SerializedChunkLength => XorbChunkHeader.Size + ChunkSize;

    public long ChunkDataLength => (long)ChunkCount * SerializedChunkLength;

    /// <summary>Checks the shape against the xorb format's limits (chunk size, chunk count, 64 MiB per xorb).</summary>
    public void Validate()
    {
        if (ChunkSize < 1 || ChunkSize > XorbChunkHeader.MaxUncompressedLength)
            throw new ArgumentOutOfRangeException(nameof(ChunkSize), ChunkSize, $"A chunk holds 1..{XorbChunkHeader.MaxUncompressedLength} bytes.");
        if (ChunkCount < 1 || ChunkCount > XorbBuilder.MaxXorbChunks)
            throw new ArgumentOutOfRangeException(nameof(ChunkCount), ChunkCount, $"A xorb holds 1..{XorbBuilder.MaxXorbChunks} chunks.");
        // As XorbBuilder counts it: the chunk data plus the V1 footer a stored xorb carries (92 + 40 n bytes and its
        // u32 length, PROTOCOL.md section 3.4), though this one is never written.
        if (ChunkDataLength + 92L + 40L * ChunkCount + 4L > XorbBuilder.MaxXorbBytes)
            throw new ArgumentOutOfRangeException(nameof(ChunkCount), ChunkCount,
                $"{ChunkCount} chunks of {ChunkSize} bytes exceed the {XorbBuilder.MaxXorbBytes >> 20} MiB a xorb may hold.");
    }

    /// <summary>The raw (unpacked) bytes of chunk <paramref name="k"/>; <paramref name="raw"/> is <see cref="ChunkSize"/> long.</summary>
    public void FillChunk(int k, Span<byte> raw, Span<byte> scratch)
    {
        for (int off = 0; off < ChunkSize; off += Block)
        {
            ScenarioData.FillRandom(ChunkSeed(k), off / Block, scratch);
            scratch.Slice(0, Math.Min(Block, ChunkSize - off)).CopyTo(raw.Slice(off));
        }
    }

    /// <summary>
    /// Copies serialized chunk data from <paramref name="offset"/> into <paramref name="destination"/>; returns the
    /// bytes copied (fewer only at the end of the chunk data). <paramref name="scratch"/> is one generator block.
    /// </summary>
    public int Read(Span<byte> destination, long offset, Span<byte> scratch)
    {
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "Offsets start at 0.");
        int total = 0;
        Span<byte> header = stackalloc byte[XorbChunkHeader.Size];
        new XorbChunkHeader(CompressionScheme.None, ChunkSize, ChunkSize).Write(header);
        while (destination.Length > 0 && offset < ChunkDataLength)
        {
            int k = (int)(offset / SerializedChunkLength);
            int inChunk = (int)(offset % SerializedChunkLength);
            int n;
            if (inChunk < XorbChunkHeader.Size)
            {
                n = Math.Min(destination.Length, XorbChunkHeader.Size - inChunk);
                header.Slice(inChunk, n).CopyTo(destination);
            }
            else
            {
                // Within the chunk's data: the generator block that holds this byte, from this byte to its end.
                int d = inChunk - XorbChunkHeader.Size;
                int inBlock = d % Block;
                ScenarioData.FillRandom(ChunkSeed(k), d / Block, scratch);
                n = Math.Min(destination.Length, Math.Min(Block, ChunkSize - (d - inBlock)) - inBlock);
                scratch.Slice(inBlock, n).CopyTo(destination);
            }
            destination = destination.Slice(n);
            offset += n;
            total += n;
        }
        return total;
    }

    /// <summary>Hashes every chunk (the work of building the xorb, without its bytes): the store's meta for it.</summary>
    public XorbMeta Describe()
    {
        Validate();
        var raw = new byte[ChunkSize];
        var scratch = new byte[Block];
        var hashes = new XetHash[ChunkCount];
        var nodes = new MerkleNode[ChunkCount];
        var boundaries = new uint[ChunkCount];
        var unpacked = new uint[ChunkCount];
        for (int k = 0; k < ChunkCount; k++)
        {
            FillChunk(k, raw, scratch);
            hashes[k] = XetHashing.ChunkHash(raw);
            nodes[k] = new MerkleNode(hashes[k], (ulong)ChunkSize);
            boundaries[k] = checked((uint)((k + 1L) * SerializedChunkLength));
            unpacked[k] = checked((uint)((k + 1L) * ChunkSize));
        }
        return new XorbMeta(XetHashing.XorbHash(nodes), checked((int)ChunkDataLength), boundaries, unpacked, hashes);
    }

    // The seeding of SeedIncident's random xorbs, so a generated xorb is the same content as a written one.
    private int ChunkSeed(int k) => unchecked(Seed * 7919 + Index * 104729 + k);

    private static readonly byte[] Magic = "XEGEN01\0"u8.ToArray();

    /// <summary>The sidecar that tells the store how to generate the xorb named by a meta (24 bytes).</summary>
    public byte[] Encode()
    {
        var bytes = new byte[24];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), Seed);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), Index);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), ChunkCount);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), ChunkSize);
        return bytes;
    }

    public static GeneratedXorb Decode(XetHash hash, byte[] bytes)
    {
        if (bytes.Length != 24 || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new InvalidDataException($"The generator file of xorb {hash} is not an emulator generator ({bytes.Length} bytes).");
        var spec = new GeneratedXorb(BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12)),
                                     BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20)));
        spec.Validate();
        return spec;
    }
}
