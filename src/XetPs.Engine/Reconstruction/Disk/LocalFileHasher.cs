using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// Hashes a local file the way the Hub names it: the Xet file id (gear chunking, chunk hashes, merkle file hash),
/// the LFS sha256, or the git blob sha1. Used once per file when no metadata record says it is up to date.
/// </summary>
internal static class LocalFileHasher
{
    private const int BlockSize = 1 << 20;

    public static XetHash XetFileId(string path, CancellationToken cancellationToken)
    {
        var chunker = new GearChunker();
        var merkle = new MerkleHashBuilder();
        var chunk = new byte[XorbChunkHeader.MaxUncompressedLength];
        var fill = 0;
        var block = new byte[BlockSize];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        int read;
        while ((read = stream.Read(block, 0, block.Length)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var data = new ReadOnlySpan<byte>(block, 0, read);
            while (data.Length > 0)
            {
                var n = chunker.NextBoundary(data);
                var take = n < 0 ? data.Length : n;
                if (fill + take > chunk.Length)
                    throw new InvalidOperationException("The gear chunker let a chunk grow past 128 KiB.");
                data.Slice(0, take).CopyTo(chunk.AsSpan(fill));
                fill += take;
                data = data.Slice(take);
                if (n >= 0)
                {
                    merkle.Add(XetHashing.ChunkHash(chunk.AsSpan(0, fill)), (ulong)fill);
                    fill = 0;
                }
            }
        }
        if (fill > 0) merkle.Add(XetHashing.ChunkHash(chunk.AsSpan(0, fill)), (ulong)fill);
        return merkle.FinishFileHash();
    }

    public static string Sha256Hex(string path, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        HashFile(path, sha, cancellationToken);
        return Hex(sha.GetHashAndReset());
    }

    /// <summary>The git blob id: sha1("blob {size}\0" + content).</summary>
    public static string GitBlobSha1Hex(string path, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        var header = Encoding.ASCII.GetBytes($"blob {new FileInfo(path).Length}\0");
        sha.AppendData(header);
        HashFile(path, sha, cancellationToken);
        return Hex(sha.GetHashAndReset());
    }

    internal static void HashFile(string path, IncrementalHash hash, CancellationToken cancellationToken, long length = long.MaxValue)
    {
        var block = new byte[BlockSize];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long done = 0;
        int read;
        while (done < length && (read = stream.Read(block, 0, (int)Math.Min(block.Length, length - done))) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(block, 0, read);
            done += read;
        }
    }

    internal static string Hex(byte[] bytes)
    {
        var sb = new StringBuilder(bytes.Length * 2);
        foreach (var b in bytes) sb.Append(b.ToString("x2"));
        return sb.ToString();
    }
}
