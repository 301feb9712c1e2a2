using System;
using System.Buffers;
using System.Buffers.Text;

namespace XetPs.Format;

/// <summary>
/// The Xet hash functions of PROTOCOL.md §5: chunk hashes, the merkle aggregation that yields xorb and file hashes,
/// and the term verification hash. Pure functions over spans; the aggregation here works on a whole node list,
/// <see cref="MerkleHashBuilder"/> gives the same results while streaming.
/// </summary>
public static class XetHashing
{
    // §5.1 keys, exact bytes. ReadOnlySpan over a constant array: no allocation, no mutable shared state.
    internal static ReadOnlySpan<byte> DataKey => new byte[]
    {
        102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28,
        157, 228, 33, 16, 155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41,
    };

    internal static ReadOnlySpan<byte> InternalNodeKey => new byte[]
    {
        1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230,
        93, 221, 83, 111, 55, 199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63,
    };

    internal static ReadOnlySpan<byte> VerificationKey => new byte[]
    {
        127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243,
        164, 205, 38, 213, 181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195,
    };

    /// <summary>Mean branching factor of the aggregation; groups hold 2 to 2*4+1 nodes (§5.3).</summary>
    internal const int BranchingFactor = 4, MaxGroup = 2 * BranchingFactor + 1;

    /// <summary>§5.2: keyed BLAKE3 of the chunk bytes under DATA_KEY.</summary>
    public static XetHash ChunkHash(ReadOnlySpan<byte> chunk) => Blake3.KeyedHash(DataKey, chunk);

    /// <summary>§5.2: the merkle root of (chunk hash, length) pairs; Zero for no chunks.</summary>
    public static XetHash XorbHash(ReadOnlySpan<MerkleNode> chunks) => AggregatedNodeHash(chunks);

    /// <summary>§5.2: keyed BLAKE3 of the merkle root under the all-zero key; Zero for no chunks.</summary>
    public static XetHash FileHash(ReadOnlySpan<MerkleNode> chunks)
    {
        Span<byte> zeroSalt = stackalloc byte[32];
        zeroSalt.Clear();
        return FileHashWithSalt(chunks, zeroSalt);
    }

    /// <summary>The file hash with a 32-byte salt as the key (raw bytes); Zero for no chunks.</summary>
    public static XetHash FileHashWithSalt(ReadOnlySpan<MerkleNode> chunks, ReadOnlySpan<byte> salt)
    {
        if (salt.Length != 32)
            throw new ArgumentException($"A file-hash salt is exactly 32 bytes; got {salt.Length}.", nameof(salt));
        return chunks.IsEmpty ? XetHash.Zero : Hmac(AggregatedNodeHash(chunks), salt);
    }

    /// <summary>§5.2: keyed BLAKE3 under VERIFICATION_KEY of the concatenated raw chunk hashes of a range.</summary>
    public static XetHash VerificationRangeHash(ReadOnlySpan<XetHash> chunkHashes)
    {
        int length = chunkHashes.Length * XetHash.Size;
        byte[]? rented = null;
        Span<byte> buffer = length <= 4096 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            for (int i = 0; i < chunkHashes.Length; i++)
                chunkHashes[i].CopyTo(buffer.Slice(i * XetHash.Size));
            return Blake3.KeyedHash(VerificationKey, buffer.Slice(0, length));
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>§5.2 "hmac": keyed BLAKE3 of the raw 32 hash bytes under <paramref name="key"/>.</summary>
    internal static XetHash Hmac(XetHash hash, ReadOnlySpan<byte> key)
    {
        Span<byte> raw = stackalloc byte[XetHash.Size];
        hash.CopyTo(raw);
        return Blake3.KeyedHash(key, raw);
    }

    /// <summary>
    /// §5.3 next_merge_cut: the length of the group starting at <paramref name="nodes"/>[0], given that
    /// <paramref name="nodes"/> is everything left on this level.
    /// </summary>
    internal static int NextMergeCut(ReadOnlySpan<MerkleNode> nodes)
    {
        if (nodes.Length <= 2)
            return nodes.Length;
        int end = Math.Min(MaxGroup, nodes.Length);
        for (int i = 2; i < end; i++)
            if (nodes[i].Hash.Modulo(BranchingFactor) == 0)
                return i + 1;
        return end;
    }

    /// <summary>§5.2 internal node: keyed BLAKE3 under INTERNAL_NODE_KEY of the lines "{hash} : {size}\n".</summary>
    internal static MerkleNode MergedHashOfSequence(ReadOnlySpan<MerkleNode> group)
    {
        // Each line is at most 64 + 3 + 20 + 1 = 88 bytes and a group holds at most 9 nodes.
        Span<byte> text = stackalloc byte[MaxGroup * 88];
        int length = 0;
        ulong total = 0;
        foreach (var node in group)
        {
            node.Hash.WriteHexAscii(text.Slice(length));
            length += 64;
            text[length++] = (byte)' '; text[length++] = (byte)':'; text[length++] = (byte)' ';
            Utf8Formatter.TryFormat(node.Size, text.Slice(length), out int written);
            length += written;
            text[length++] = (byte)'\n';
            total = checked(total + node.Size);
        }
        return new MerkleNode(Blake3.KeyedHash(InternalNodeKey, text.Slice(0, length)), total);
    }

    /// <summary>§5.3 aggregated_node_hash: merge level by level until one node is left; Zero for none.</summary>
    internal static XetHash AggregatedNodeHash(ReadOnlySpan<MerkleNode> chunks)
    {
        if (chunks.IsEmpty)
            return XetHash.Zero;
        if (chunks.Length == 1)
            return chunks[0].Hash;
        var level = ArrayPool<MerkleNode>.Shared.Rent(chunks.Length);
        try
        {
            chunks.CopyTo(level);
            int count = chunks.Length;
            while (count > 1)
            {
                int write = 0, read = 0;
                while (read < count)
                {
                    int cut = NextMergeCut(new ReadOnlySpan<MerkleNode>(level, read, count - read));
                    // write <= read always, so the group is read before its slot is overwritten.
                    level[write++] = MergedHashOfSequence(new ReadOnlySpan<MerkleNode>(level, read, cut));
                    read += cut;
                }
                count = write;
            }
            return level[0].Hash;
        }
        finally
        {
            ArrayPool<MerkleNode>.Shared.Return(level);
        }
    }
}
