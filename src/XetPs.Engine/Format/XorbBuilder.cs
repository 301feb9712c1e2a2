using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace XetPs.Format;

/// <summary>
/// Builds one serialized xorb (§3.1): encoded chunks one after another, then the V1 footer (§3.4) with the chunk
/// hashes, the cumulative serialized and unpacked end offsets, and the xorb hash (the merkle root of the chunks).
/// Used by the emulator to store xorbs. Invariant: what has been added always fits the protocol limits
/// (<see cref="MaxXorbBytes"/> including the footer, <see cref="MaxXorbChunks"/>); <see cref="TryAdd"/> refuses a
/// chunk that would break them and leaves the builder unchanged.
/// </summary>
public sealed class XorbBuilder
{
    public const int MaxXorbBytes = 64 << 20, MaxXorbChunks = 8192;

    private readonly uint _nonce;
    private byte[] _data = new byte[1 << 16];
    private int _dataLength;
    private readonly List<XetHash> _hashes = new();
    private readonly List<MerkleNode> _nodes = new();
    private readonly List<uint> _boundaryEnds = new();
    private readonly List<uint> _unpackedEnds = new();
    private uint _unpacked;

    /// <param name="nonce">The 4-byte per-upload uniqueness nonce at the start of the footer's nonce buffer; it is
    /// not part of the xorb hash. Zero keeps emulator xorbs byte-for-byte reproducible.</param>
    public XorbBuilder(uint nonce = 0) => _nonce = nonce;

    public int ChunkCount => _hashes.Count;

    /// <summary>The length <see cref="Build"/> would produce now: chunk bytes, footer and its length word.</summary>
    public long SerializedLength => _dataLength + XorbFooter.InfoLength(ChunkCount) + 4L;

    /// <summary>
    /// Encodes <paramref name="rawChunk"/> with <paramref name="scheme"/> (stored as None when that does not shrink it)
    /// and appends it. Returns false, changing nothing, when the xorb has no room for it.
    /// </summary>
    public bool TryAdd(ReadOnlySpan<byte> rawChunk, CompressionScheme scheme)
    {
        if (rawChunk.Length > XorbChunkHeader.MaxUncompressedLength)
            throw new ArgumentException(
                $"A chunk holds at most {XorbChunkHeader.MaxUncompressedLength} bytes; got {rawChunk.Length}.", nameof(rawChunk));
        if (!XorbChunkHeader.IsKnown(scheme))
            throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Only None, Lz4 and ByteGrouping4Lz4 can be written.");
        if (ChunkCount >= MaxXorbChunks)
            return false;

        EnsureRoom(_dataLength + XorbChunkCodec.MaxEncodedLength(rawChunk.Length));
        int encoded = XorbChunkCodec.Encode(rawChunk, scheme, _data.AsSpan(_dataLength));
        long total = _dataLength + encoded + XorbFooter.InfoLength(ChunkCount + 1) + 4L;
        if (total > MaxXorbBytes)
            return false; // the encoded bytes past _dataLength are simply overwritten by the next chunk

        var hash = XetHashing.ChunkHash(rawChunk);
        _dataLength += encoded;
        _unpacked += (uint)rawChunk.Length;
        _hashes.Add(hash);
        _nodes.Add(new MerkleNode(hash, (ulong)rawChunk.Length));
        _boundaryEnds.Add((uint)_dataLength);
        _unpackedEnds.Add(_unpacked);
        return true;
    }

    /// <summary>Serializes the chunks and the footer. The builder stays usable (Build again gives the same xorb).</summary>
    public SerializedXorb Build()
    {
        if (ChunkCount == 0)
            throw new InvalidOperationException("A xorb holds at least one chunk.");
        int n = ChunkCount;
        var xorbHash = XetHashing.XorbHash(_nodes.ToArray());
        var bytes = new byte[SerializedLength];
        _data.AsSpan(0, _dataLength).CopyTo(bytes);

        var footer = bytes.AsSpan(_dataLength);
        int pos = 0;
        XorbFooter.Ident.CopyTo(footer);
        footer[7] = XorbFooter.Version;
        xorbHash.CopyTo(footer.Slice(8));
        pos = 40;

        XorbFooter.HashesIdent.CopyTo(footer.Slice(pos));
        footer[pos + 7] = XorbFooter.HashesVersion;
        BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos + 8), (uint)n);
        pos += 12;
        foreach (var hash in _hashes)
        {
            hash.CopyTo(footer.Slice(pos));
            pos += XetHash.Size;
        }

        XorbFooter.BoundariesIdent.CopyTo(footer.Slice(pos));
        footer[pos + 7] = XorbFooter.BoundariesVersion;
        BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos + 8), (uint)n);
        pos += 12;
        foreach (uint end in _boundaryEnds)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos), end);
            pos += 4;
        }
        foreach (uint end in _unpackedEnds)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos), end);
            pos += 4;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos), (uint)n);
        BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos + 4), (uint)XorbFooter.HashesOffsetFromEnd(n));
        BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos + 8), (uint)XorbFooter.BoundariesOffsetFromEnd(n));
        BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos + 12), _nonce); // rest of the nonce buffer stays 0
        pos += 12 + XorbFooter.NonceLength;

        BinaryPrimitives.WriteUInt32LittleEndian(footer.Slice(pos), (uint)XorbFooter.InfoLength(n));
        return new SerializedXorb(xorbHash, bytes, _dataLength, _boundaryEnds.ToArray(), _unpackedEnds.ToArray(), _hashes.ToArray());
    }

    private void EnsureRoom(int needed)
    {
        if (needed <= _data.Length)
            return;
        int size = _data.Length;
        while (size < needed)
            size *= 2;
        Array.Resize(ref _data, size);
    }
}
