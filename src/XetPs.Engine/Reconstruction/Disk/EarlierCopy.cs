using System;
using System.IO;
using System.Threading;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// The copy of a file that an earlier verified download of ours left at the destination, used as a source of chunks
/// while its next version is downloaded beside it: every term of the new reconstruction whose chunks the old copy holds
/// (<see cref="WrittenTerms"/>) is read from it instead of fetched. Trusted only as far as its record goes (a verified
/// download of ours, unchanged since: same size and time); its bytes are hashed again as they are read, like fetched
/// ones, so a copy damaged behind its record only fails the new file's hash, and the file is then downloaded afresh
/// without it. The old copy is only read: it stays in place until the new file is verified and moved over it.
/// Owned by one file's run, not thread-safe (the writer alone reads it).
/// </summary>
internal sealed class EarlierCopy : IDisposable
{
    private readonly string _path;
    private readonly WrittenTerms _terms;
    private FileStream? _file;

    private EarlierCopy(string path, WrittenTerms terms)
    {
        _path = path;
        _terms = terms;
    }

    /// <summary>
    /// The copy at <paramref name="destination"/> when <paramref name="record"/> vouches for it (a verified Xet download
    /// of ours, unchanged since) and its chunk map is there; null otherwise, and the file is simply fetched.
    /// </summary>
    public static EarlierCopy? TryOpen(string destination, string repoPath, LocalFileRecord? record) =>
        TryOpenWithMap(destination, WrittenTerms.PathFor(destination, repoPath), record);

    /// <summary>As <see cref="TryOpen"/>, for a copy whose chunk map is at <paramref name="mapPath"/> (a blob of the
    /// Hugging Face cache keeps it in the cache's lock folder).</summary>
    public static EarlierCopy? TryOpenWithMap(string copyPath, string mapPath, LocalFileRecord? record)
    {
        if (record is not { Verified: true } || !record.Identity.StartsWith("xet:", StringComparison.Ordinal)) return null;
        if (!XetHash.TryParse(record.Identity.Substring(4), out var fileId)) return null;
        var info = new FileInfo(copyPath);
        // Describes: unchanged since, and its bytes known to be on the disk (see LocalFileRecord).
        if (!info.Exists || !record.Describes(info, record.Identity)) return null;
        var terms = WrittenTerms.TryLoad(mapPath, fileId, info.Length);
        return terms is null || terms.ChunkCount == 0 ? null : new EarlierCopy(copyPath, terms);
    }

    /// <summary>Where <paramref name="term"/>'s chunks sit in the old copy, or null when it does not hold them all.</summary>
    public EarlierChunks? Locate(ReconstructionTerm term) =>
        _terms.Locate(term) is { } found ? new EarlierChunks(found.Offsets, found.Lengths) : null;

    /// <summary>Reads exactly <paramref name="count"/> bytes at <paramref name="offset"/> of the old copy.</summary>
    public void Read(byte[] buffer, int count, long offset, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Shared for reading, writing and deletion: the finished file is moved over this name while it may still be open.
        _file ??= new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.RandomAccess);
        _file.Position = offset;
        var done = 0;
        while (done < count)
        {
            var n = _file.Read(buffer, done, count - done);
            if (n <= 0) throw new EndOfStreamException($"The earlier copy '{_path}' ends before byte {offset + count}.");
            done += n;
        }
    }

    public void Dispose() => _file?.Dispose();
}

/// <summary>Where the chunks of one term sit in an <see cref="EarlierCopy"/>: one file offset and length per chunk, in
/// the term's order.</summary>
internal sealed record EarlierChunks(long[] Offsets, int[] Lengths);
